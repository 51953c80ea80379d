"""Ranked lists of a model as one PNG: chosen, random and worst-ranked queries with their top-k.

    python -m tools.ranked_list --out ranked.png --config_path RUN/config.yaml \
        --eval.checkpoint RUN/checkpoints/network_last.ckpt      # or an exported NAME_visible.mindir
    python -m tools.ranked_list --out ranked.png --eval.features FEATURES.npz \
        --data.dataset sysu --data.data_path DIR                 # eval.py --save_features writes one

Own options: --out, --trial, --topk, --random N, --worst N, --queries LIST, --seed,
--tile_height, --tile_width, --colours (``-h`` lists them). Every other ``--key value`` is a config
option as for eval.py: the protocol (``eval.mode``, ``eval.protocol``, ``eval.shots``,
``eval.direction``, where "both" draws the dataset's first, ``eval.rand_perm_cam``) and the ranking (``eval.distance``,
``eval.normalize``, ``eval.rerank``) are the evaluation's.

Each row is a query (blue frame) and its first ``topk`` gallery images in the ranking that
average precision is computed on: the protocol's removal rule applied (SYSU-MM01: no cam2
image for a cam3 query), identities not de-duplicated. A green frame is a true match, a red
one a false match; under each image its distance to the query, camera and identity. The
worst-ranked queries are those of lowest average precision.
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402

from src.config import ConfigError, load_config  # noqa: E402
from src.visualization.ranked_lists import QUERY_COLOUR, Row, Tile, match_colour, render_rows, save_png  # noqa: E402


def parse_command_line(argv):
    """(own options, resolved config) of the command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0], allow_abbrev=False,
                                     epilog="Other --key value options are config options, as for eval.py.")
    parser.add_argument("--out", required=True, help="PNG file to write")
    parser.add_argument("--trial", type=int, default=None,
                        help="gallery trial (SYSU-MM01 / LLCM: 0..9, default 0) or RegDB split (default data.trial)")
    parser.add_argument("--topk", type=int, default=10, help="gallery images shown per query")
    parser.add_argument("--random", type=int, default=3, help="number of random queries")
    parser.add_argument("--worst", type=int, default=3, help="number of lowest-AP queries")
    parser.add_argument("--queries", default="",
                        help="comma-separated queries to show: indices into the query list or dataset-relative paths")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random query choice")
    parser.add_argument("--tile_height", type=int, default=128, help="shown image height in pixels")
    parser.add_argument("--tile_width", type=int, default=64, help="shown image width in pixels")
    parser.add_argument("--colours", type=int, default=0, choices=range(0, 257), metavar="0..256",
                        help="palette colours of the PNG (0: full colour; 128 makes it about 3x smaller)")
    args, config_argv = parser.parse_known_args(argv)
    if min(args.topk, args.tile_height, args.tile_width) < 1 or min(args.random, args.worst) < 0:
        parser.error("--topk, --tile_height and --tile_width must be positive, --random and --worst not negative")
    try:
        cfg = load_config(config_argv)
        if not cfg.eval.features and not cfg.eval.checkpoint:
            raise ConfigError("set eval.features (a features .npz) or eval.checkpoint (a .ckpt or an exported .mindir)")
    except ConfigError as error:
        parser.error(str(error))
    return args, cfg


def chosen_queries(text, query_records):
    """Indices into ``query_records`` of the comma-separated indices or paths in ``text``."""
    index_of_path = {record.path: index for index, record in enumerate(query_records)}
    chosen = []
    for item in filter(None, (part.strip() for part in text.split(","))):
        if item.isdigit() and int(item) < len(query_records):
            chosen.append(int(item))
        elif item in index_of_path:
            chosen.append(index_of_path[item])
        else:
            raise ValueError(f"query {item!r} is neither an index below {len(query_records)} nor a query path")
    return chosen


def query_selection(args, query_records, average_precision, valid):
    """[(label, query index)]: the chosen queries, then random ones, then the lowest-AP valid ones."""
    selection = [("chosen", index) for index in chosen_queries(args.queries, query_records)]
    rng = np.random.default_rng(args.seed)
    count = min(args.random, len(query_records))
    selection += [("random", int(index)) for index in sorted(rng.choice(len(query_records), count, replace=False))]
    candidates = np.flatnonzero(valid)
    worst = candidates[np.argsort(average_precision[candidates], kind="stable")][:args.worst]
    selection += [("worst", int(index)) for index in worst]
    return selection


def ranked_row(label, query, gallery, distances, kept, root, topk):
    """The ``Row`` of one query: the query tile, then its first ``topk`` kept gallery images.

    Args:
        query: the query ImageRecord; gallery: the gallery ImageRecords.
        distances: (G,) distances of the query to the gallery.
        kept: gallery indices in rank order after the protocol's removal rule (``kept_ranking``).
        root: dataset root the record paths are relative to.
    """
    tiles = [Tile(os.path.join(root, query.path), QUERY_COLOUR, ("query", f"cam{query.cam} id{query.pid}"))]
    for index in kept[:topk]:
        record = gallery[index]
        tiles.append(Tile(os.path.join(root, record.path), match_colour(record.pid == query.pid),
                          (f"{distances[index]:.3f}", f"cam{record.cam} id{record.pid}")))
    return Row(label, tiles)


def main(argv=None):
    args, cfg = parse_command_line(sys.argv[1:] if argv is None else argv)
    from src.datasets.dataset import configured_test_options
    from src.engine.evaluator import TRIAL_PLACEHOLDER, checkpoint_source, evaluation_trials, features_file_source
    from src.evaluation.metrics import kept_ranking, query_statistics
    from src.evaluation.protocol import query_gallery_distance

    template = cfg.eval.features or cfg.eval.checkpoint
    if cfg.eval.features:
        source_for = features_file_source(template)
    else:
        from src.engine.context import setup_context
        setup_context(cfg.device_target, cfg.device_id, cfg.graph_mode)
        source_for = checkpoint_source(cfg, template)
    trials, reader_for = evaluation_trials(cfg, per_trial_models=TRIAL_PLACEHOLDER in template)
    trial = trials[0] if args.trial is None else args.trial
    reader = reader_for(trial)
    first_direction_options = next(iter(configured_test_options(cfg.data.dataset, cfg.eval).values()))
    lists = reader.test_lists(trial, first_direction_options)
    source = source_for(trial)
    query_features = source.features_of(lists.query)
    gallery_features = source.features_of(lists.gallery)
    distances = query_gallery_distance(query_features, gallery_features, cfg.eval.distance, cfg.eval.normalize,
                                       cfg.eval.rerank)
    q_pids, g_pids = [r.pid for r in lists.query], [r.pid for r in lists.gallery]
    q_cams, g_cams = [r.cam for r in lists.query], [r.cam for r in lists.gallery]
    rule = reader.ranking_rule
    stats = query_statistics(distances, q_pids, g_pids, q_cams, g_cams, rule=rule)
    rows = []
    for kind, index in query_selection(args, lists.query, stats["ap"], stats["valid"]):
        kept = kept_ranking(distances[index], q_pids[index], g_pids, q_cams[index], g_cams, rule=rule)
        quality = f"AP {100 * stats['ap'][index]:.1f}%" if stats["valid"][index] else "no true match in the gallery"
        rows.append(ranked_row(f"{kind} query {index} ({lists.query[index].path}): {quality}", lists.query[index],
                               lists.gallery, distances[index], kept, cfg.data.data_path, args.topk))
    if not rows:
        raise SystemExit("error: no query chosen (--queries, --random and --worst are all empty)")
    sheet = render_rows(rows, args.tile_height, args.tile_width)
    save_png(sheet, args.out, args.colours)
    print(f"wrote {len(rows)} ranked lists of trial {trial} ({sheet.size[0]} x {sheet.size[1]} pixels) to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
