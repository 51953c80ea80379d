"""Progress bar: a few lines when not on a terminal, one redrawn line on a terminal."""

import io

from src.utils.progress import Progress


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_log_output_is_a_few_lines_with_counts():
    stream = io.StringIO()
    with Progress(1000, "caching", stream=stream) as progress:
        for _ in range(1000):
            progress.update()
    lines = stream.getvalue().splitlines()
    assert lines[0].startswith("caching: 0/1000")
    assert lines[-1].startswith("caching: 1000/1000 (100.0%)") and "img/s" in lines[-1]
    assert 3 <= len(lines) <= 6, lines


def test_terminal_output_redraws_one_line():
    stream = _Terminal()
    progress = Progress(10, "checking", stream=stream, redraw_interval=0.0)
    for _ in range(10):
        progress.update()
    progress.close()
    progress.close()
    text = stream.getvalue()
    assert text.count("\n") == 1 and text.count("\r") == 11
    assert "10/10" in text.split("\r")[-1] and "left" in text.split("\r")[5]
