"""Ranked lists as one PNG: each row a query and its top-k gallery images, framed and captioned.

A row is a label line above a strip of tiles. Every tile is an image resized to
(tile_height, tile_width) pixels inside a frame of ``FRAME`` pixels, with caption lines
under it. The frame (its innermost line white) says what the tile is: the query (``QUERY_COLOUR``), a true match
(``MATCH_COLOUR``), a false one (``MISMATCH_COLOUR``) or a result whose identity is unknown
(``UNKNOWN_COLOUR``, e.g. a search in an unlabelled folder). Pillow only.
"""

import os
from dataclasses import dataclass
from typing import Sequence

from PIL import Image, ImageDraw, ImageFont

from src.datasets.image_io import read_resized

QUERY_COLOUR = (40, 90, 200)
MATCH_COLOUR = (0, 170, 0)
MISMATCH_COLOUR = (220, 0, 0)
UNKNOWN_COLOUR = (150, 150, 150)
BACKGROUND = (255, 255, 255)
TEXT_COLOUR = (0, 0, 0)
FRAME = 5  # frame width in pixels, its innermost line white (frames stay visible on red or green images)
GAP = 6  # pixels between tiles, between rows and around the sheet
QUERY_GAP = 18  # extra space between the query and its results


@dataclass(frozen=True)
class Tile:
    """One framed image: ``path`` (file to show), ``frame`` (RGB colour), ``caption`` (lines under it)."""

    path: str
    frame: tuple
    caption: Sequence[str] = ()


@dataclass(frozen=True)
class Row:
    """A label line and its tiles, the query first."""

    label: str
    tiles: Sequence[Tile]


def match_colour(is_match):
    """Frame colour of a result: ``MATCH_COLOUR`` for a true match, ``MISMATCH_COLOUR`` otherwise."""
    return MATCH_COLOUR if is_match else MISMATCH_COLOUR


class SheetLayout:
    """Pixel geometry of a sheet of ``Row``s (all rows share one font and tile size).

    Args:
        tile_height, tile_width: image size inside the frame, in pixels.
        caption_lines: most caption lines under any tile.
        line_height: pixels per text line.
    """

    def __init__(self, tile_height, tile_width, caption_lines, line_height):
        self.tile_height, self.tile_width = tile_height, tile_width
        self.line_height = line_height
        self.cell_width = tile_width + 2 * FRAME
        self.row_height = line_height + tile_height + 2 * FRAME + caption_lines * line_height + GAP

    def frame_box(self, row, column):
        """(left, top, right, bottom) of tile ``column`` (0 = query) of ``row``, frame included;
        right and bottom are exclusive."""
        left = GAP + column * (self.cell_width + GAP) + (QUERY_GAP if column > 0 else 0)
        top = GAP + row * self.row_height + self.line_height
        return left, top, left + self.cell_width, top + self.tile_height + 2 * FRAME

    def size(self, num_rows, num_columns):
        """(width, height) of the whole sheet in pixels."""
        right = self.frame_box(0, max(num_columns - 1, 0))[2]
        return right + GAP, GAP + num_rows * self.row_height


def _font():
    try:
        return ImageFont.load_default(size=11)
    except TypeError:  # Pillow < 10.1 has one fixed-size bitmap font
        return ImageFont.load_default()


def layout_for(rows, tile_height, tile_width):
    """The ``SheetLayout`` that ``render_rows`` uses for ``rows``."""
    font = _font()
    left, top, right, bottom = font.getbbox("Ag")
    caption_lines = max((len(tile.caption) for row in rows for tile in row.tiles), default=0)
    return SheetLayout(tile_height, tile_width, caption_lines, bottom - min(top, 0) + 2)


def render_rows(rows, tile_height=128, tile_width=64):
    """The sheet as an RGB ``PIL.Image``: one ``Row`` under the other (geometry: ``layout_for``)."""
    if not rows:
        raise ValueError("no rows to draw")
    layout = layout_for(rows, tile_height, tile_width)
    sheet = Image.new("RGB", layout.size(len(rows), max(len(row.tiles) for row in rows)), BACKGROUND)
    draw = ImageDraw.Draw(sheet)
    font = _font()
    for row_index, row in enumerate(rows):
        label_top = layout.frame_box(row_index, 0)[1] - layout.line_height
        draw.text((GAP, label_top), row.label, fill=TEXT_COLOUR, font=font)
        for column, tile in enumerate(row.tiles):
            left, top, right, bottom = layout.frame_box(row_index, column)
            draw.rectangle((left, top, right - 1, bottom - 1), fill=tuple(tile.frame))
            draw.rectangle((left + FRAME - 1, top + FRAME - 1, right - FRAME, bottom - FRAME), outline=BACKGROUND)
            image = Image.fromarray(read_resized(tile.path, tile_height, tile_width))
            sheet.paste(image, (left + FRAME, top + FRAME))
            for line_index, line in enumerate(tile.caption):
                draw.text((left, bottom + line_index * layout.line_height), line, fill=TEXT_COLOUR, font=font)
    return sheet


def save_png(sheet, path, colours=0):
    """Write ``sheet`` as PNG (folders created); ``colours`` > 0 reduces it to that many palette
    colours (median cut, no dithering), which makes a sheet of photographs about 3x smaller."""
    if colours:
        sheet = sheet.quantize(colors=colours, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    sheet.save(path, optimize=True)
