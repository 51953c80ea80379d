"""Search a gallery of images with the exported model: the deployment path, from the MINDIR pair alone.

    python search.py --model STEM --modality infrared --query IMG [IMG or DIR ...] \
        (--gallery DIR | --gallery_features FILE.npz [--gallery_root DIR]) [--topk 10] [--render OUT.png]

STEM is export.py's NAME (NAME_visible.mindir and NAME_infrared.mindir), or either file.
The query images go through the route of ``--modality``; the gallery is of the other
modality (``--gallery_modality`` to change it). The input size is read from the MINDIR, and
images are prepared as eval.py prepares them (resize, normalisation, flip averaging unless
``--flip_tta false``). No config and no training code are needed.

A gallery folder (searched recursively for .jpg / .jpeg / .png / .bmp) is embedded once: its
features go to ``--cache`` (default DIR/.search_<NAME>_<modality>.npz, the format of
``eval.py --features``) and are reused while the folder's file list and the model file are
unchanged. ``--gallery_features`` takes such a file, or a dump of ``eval.py
--save_features`` (only its rows of the gallery modality are searched; ``--gallery_root``,
the dataset root, is needed to render them).

Prints, for each query, the top-k gallery images with their distances (cosine by default,
as eval.py; ties keep gallery order); ``--render OUT.png`` draws them as tools/ranked_list.py
does, with grey frames (the identities are unknown).
"""

import argparse
import os
import sys

import src  # noqa: F401  (sets the oneDNN ISA before MindSpore loads)
from src.registry import declared_options
from src.datasets.folder_lists import IMAGE_EXTENSIONS
from src.datasets.records import INFRARED, MODALITIES, VISIBLE, ImageRecord
from src.evaluation.distances import DISTANCES


def parse_command_line(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0], allow_abbrev=False)
    parser.add_argument("--model", required=True,
                        help="export.py's NAME, or NAME_visible.mindir / NAME_infrared.mindir")
    parser.add_argument("--modality", required=True, choices=MODALITIES, help="modality of the query images")
    parser.add_argument("--query", required=True, nargs="+", help="query image files or folders of them")
    gallery = parser.add_mutually_exclusive_group(required=True)
    gallery.add_argument("--gallery", help="folder of gallery images (embedded once, then cached)")
    gallery.add_argument("--gallery_features", help="features .npz (paths, features[, modality])")
    parser.add_argument("--gallery_root", default="", help="folder the --gallery_features paths are relative to")
    parser.add_argument("--gallery_modality", choices=MODALITIES, default=None,
                        help="modality of the gallery (default: the other one)")
    parser.add_argument("--topk", type=int, default=10, help="results per query")
    parser.add_argument("--distance", choices=DISTANCES.names(), default="cosine",
                        help="a registered distance (as eval.distance), between L2-normalised features")
    parser.add_argument("--flip_tta", choices=("true", "false"), default="true",
                        help="average each feature with that of the mirrored image (as eval.py by default)")
    parser.add_argument("--cache", default="", help="gallery features cache file (default inside --gallery)")
    parser.add_argument("--render", default="", help="also draw the ranked lists into this PNG")
    parser.add_argument("--batch_size", type=int, default=32, help="images per forward pass")
    parser.add_argument("--device_target", choices=declared_options()["device_target"].choices, default="CPU")
    args = parser.parse_args(argv)
    if args.topk < 1 or args.batch_size < 1:
        parser.error("--topk and --batch_size must be positive")
    if args.render and args.gallery_features and not args.gallery_root:
        parser.error("--render with --gallery_features needs --gallery_root (where the gallery images are)")
    args.gallery_modality = args.gallery_modality or (VISIBLE if args.modality == INFRARED else INFRARED)
    args.flip_tta = args.flip_tta == "true"
    return args


def image_files(items):
    """Absolute paths of the image files named in ``items`` or found (recursively, sorted) in its folders."""
    files = []
    for item in items:
        if os.path.isdir(item):
            files += [os.path.join(item, path) for path in folder_images(item)]
        elif os.path.isfile(item):
            files.append(item)
        else:
            raise FileNotFoundError(f"query {item} is neither an image file nor a folder")
    return [os.path.abspath(path) for path in files]


def folder_images(folder):
    """Sorted image paths under ``folder``, relative to it with '/' separators."""
    found = []
    for directory, _, names in os.walk(folder):
        relative = os.path.relpath(directory, folder)
        found += [name if relative == "." else f"{relative}/{name}".replace(os.sep, "/")
                  for name in names if name.lower().endswith(IMAGE_EXTENSIONS)]
    return sorted(found)


class Embedder:
    """Features of image files through one modality's exported graph, prepared as eval.py prepares images."""

    def __init__(self, model_path, cell, flip, batch_size):
        from src.engine.mindir import mindir_input_size
        self.model_path = model_path
        self.cell = cell
        self.height, self.width = mindir_input_size(model_path)
        self.flip = flip
        self.batch_size = batch_size

    def signature(self):
        """What the features depend on besides the images: the model file and the flip setting."""
        status = os.stat(self.model_path)
        return (f"search cache of {os.path.basename(self.model_path)} ({status.st_size} bytes, modified "
                f"{status.st_mtime_ns}), flip {self.flip}")

    def features(self, root, paths, modality):
        """(N, D) float32 features of ``paths`` (relative to ``root``, or absolute with root "")."""
        from src.evaluation.features import ImageFeatureExtractor
        records = [ImageRecord(path, -1, 0, modality) for path in paths]
        extractor = ImageFeatureExtractor(root, {modality: self.cell}, self.height, self.width,
                                          batch_size=self.batch_size, flip=self.flip)
        return extractor.features_of(records)


def folder_gallery(folder, embedder, modality, cache_path):
    """(paths relative to ``folder``, (N, D) features), read from ``cache_path`` while still valid."""
    import numpy as np

    from src.evaluation.features import write_feature_file
    paths = folder_images(folder)
    if not paths:
        raise FileNotFoundError(f"no images ({', '.join(IMAGE_EXTENSIONS)}) under {folder}")
    if os.path.isfile(cache_path):
        with np.load(cache_path) as cached:
            if cached["paths"].tolist() == paths and str(cached["kind"]) == embedder.signature():
                print(f"gallery features of {len(paths)} images read from {cache_path}")
                return paths, cached["features"]
    features = embedder.features(folder, paths, modality)
    write_feature_file(cache_path, [ImageRecord(path, -1, 0, modality) for path in paths], features,
                       embedder.signature())
    print(f"gallery features of {len(paths)} images written to {cache_path}")
    return paths, features


def file_gallery(features_path, modality):
    """(paths, (N, D) features) of a features file: its rows of ``modality`` when it records modalities."""
    import numpy as np
    with np.load(features_path) as content:
        paths, features = content["paths"], content["features"]
        if "modality" in content.files:
            rows = content["modality"] == modality
            paths, features = paths[rows], features[rows]
    if len(paths) == 0:
        raise ValueError(f"{features_path} holds no {modality} features")
    return paths.tolist(), np.asarray(features, dtype=np.float32)


def rank(query_features, gallery_features, distance, topk):
    """((Q, k) gallery indices, (Q, k) distances) of the k nearest, k = min(topk, G); stable order."""
    import numpy as np

    from src.evaluation.distances import pairwise_distance
    distances = pairwise_distance(query_features, gallery_features, distance=distance, normalize=True)
    order = np.argsort(distances, axis=1, kind="stable")[:, :topk]
    return order, np.take_along_axis(distances, order, axis=1)


def search(args):
    """[(query path, [(gallery path, distance), ...]), ...] for ``parse_command_line``'s arguments."""
    from src.engine.context import setup_context
    from src.engine.mindir import MINDIR_SUFFIXES, mindir_pair, mindir_stem
    setup_context(args.device_target, 0, graph_mode=True)
    stem = mindir_stem(args.model)
    cells = mindir_pair(stem + MINDIR_SUFFIXES[VISIBLE])
    query_paths = image_files(args.query)
    if not query_paths:
        raise FileNotFoundError("no query images found")
    query_embedder = Embedder(stem + MINDIR_SUFFIXES[args.modality], cells[args.modality], args.flip_tta,
                              args.batch_size)
    query_features = query_embedder.features("", query_paths, args.modality)
    if args.gallery:
        gallery_embedder = Embedder(stem + MINDIR_SUFFIXES[args.gallery_modality], cells[args.gallery_modality],
                                    args.flip_tta, args.batch_size)
        cache = args.cache or os.path.join(args.gallery,
                                           f".search_{os.path.basename(stem)}_{args.gallery_modality}.npz")
        gallery_paths, gallery_features = folder_gallery(args.gallery, gallery_embedder, args.gallery_modality, cache)
        gallery_root = args.gallery
    else:
        gallery_paths, gallery_features = file_gallery(args.gallery_features, args.gallery_modality)
        gallery_root = args.gallery_root
    order, distances = rank(query_features, gallery_features, args.distance, args.topk)
    return [(query, [(os.path.join(gallery_root, gallery_paths[index]), float(distance))
                     for index, distance in zip(indices, row_distances)])
            for query, indices, row_distances in zip(query_paths, order, distances)]


def render(results, out_path):
    """Draw ``search``'s results as ranked lists (grey frames: identities unknown)."""
    from src.visualization.ranked_lists import QUERY_COLOUR, UNKNOWN_COLOUR, Row, Tile, render_rows, save_png
    rows = [Row(os.path.basename(query), [Tile(query, QUERY_COLOUR, ("query",))]
                + [Tile(path, UNKNOWN_COLOUR, (f"{distance:.3f}",)) for path, distance in found])
            for query, found in results]
    save_png(render_rows(rows), out_path)
    print(f"ranked lists drawn in {out_path}")


def main(argv=None):
    args = parse_command_line(sys.argv[1:] if argv is None else argv)
    try:
        results = search(args)
    except (FileNotFoundError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    for query, found in results:
        print(f"query {query}")
        for position, (path, distance) in enumerate(found, start=1):
            print(f"  {position:3d}  {distance:.4f}  {path}")
    if args.render:
        render(results, args.render)
    return 0


if __name__ == "__main__":
    sys.exit(main())
