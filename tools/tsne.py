"""t-SNE of the observation v and the representation z of test identities (paper Fig. 5 and 6).

    python -m tools.tsne --out tsne.png --config_path RUN/config.yaml \
        --eval.checkpoint RUN/checkpoints/network_last.ckpt [--ids 12 --per_id 8 --seed 0]

Own options: --out, --ids, --per_id, --perplexity, --seed (``-h`` lists them); other
``--key value`` options are config options (the run's model and data; ``eval.flip_tta``).
Draws one panel per branch and variable: the shared branch embeds both modalities jointly
(paper Fig. 6), the visible- and infrared-specific branches their own modality (Fig. 5).
Points are coloured by identity; visible images are circles, infrared ones triangles. Each
variable is as at test time: v the BN-neck output and z the Gaussian's mean, each
L2-normalised. ``--ids`` identities are drawn with ``--seed`` from the test identities (the
images any test setting of the reader's first test trial uses), with at most ``--per_id``
images per identity and modality (the first by path).
Needs requirements-extra.txt (matplotlib, scikit-learn); says how to install it when missing.
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402

from src.config import ConfigError, load_config  # noqa: E402
from src.datasets.records import INFRARED, VISIBLE  # noqa: E402
from src.visualization.extras import MissingExtraError, import_extra  # noqa: E402


def choose_records(records, num_ids, per_id, seed):
    """The records of ``num_ids`` identities (drawn with ``seed`` among those with both modalities),
    at most ``per_id`` per identity and modality, the first by path; sorted by (pid, modality, path)."""
    by_key = {}
    for record in sorted(records, key=lambda record: record.path):
        by_key.setdefault((record.pid, record.modality), []).append(record)
    both = sorted({pid for pid, _ in by_key if (pid, VISIBLE) in by_key and (pid, INFRARED) in by_key})
    chosen = sorted(np.random.default_rng(seed).permutation(both)[:num_ids].tolist())
    return [record for pid in chosen for modality in (VISIBLE, INFRARED) for record in by_key[pid, modality][:per_id]]


def branch_parts(branch):
    """A cell mapping images (B, 3, H, W) to [v, z] (B, D_v + D_z) of one branch, as at test time."""
    from mindspore import nn, ops

    class BranchParts(nn.Cell):
        def __init__(self):
            super().__init__(auto_prefix=False)
            self.branch = branch

        def construct(self, images):
            return ops.concat(self.branch.test_parts(images, True, self.branch.has_bottleneck), axis=1)
    return BranchParts()


def branch_features(cfg, network, records):
    """{(branch, variable): (features, records)} for the network's branches.

    The shared branch takes every record; the visible / infrared branch that modality's records.
    """
    from src.datasets.pipeline import iterate_test_batches
    from src.engine.builders import cache_dir
    from src.evaluation.features import extract_features

    routes = [("shared", network.shared_branch, records),
              ("visible", network.visible_branch, [r for r in records if r.modality == VISIBLE]),
              ("infrared", network.infrared_branch, [r for r in records if r.modality == INFRARED])]
    found = {}
    for name, branch, chosen in routes:
        if branch is None or not chosen:
            continue
        batches = iterate_test_batches(cfg.data.data_path, chosen, cfg.data.height, cfg.data.width,
                                       cfg.eval.batch_size, cache_dir=cache_dir(cfg), num_workers=cfg.data.num_workers)
        features = extract_features(batches, branch_parts(branch), flip=cfg.eval.flip_tta)
        v_dim = branch.encoder.output_dim
        found[name, "v"] = (features[:, :v_dim], chosen)
        if branch.has_bottleneck:
            found[name, "z"] = (features[:, v_dim:], chosen)
    return found


def parse_command_line(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0], allow_abbrev=False,
                                     epilog="Other --key value options are config options, as for eval.py.")
    parser.add_argument("--out", required=True, help="PNG file to write")
    parser.add_argument("--ids", type=int, default=12, help="test identities shown")
    parser.add_argument("--per_id", type=int, default=8, help="images per identity and modality, at most")
    parser.add_argument("--perplexity", type=float, default=30.0, help="t-SNE perplexity (capped below N / 3)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the identity choice and of t-SNE")
    args, config_argv = parser.parse_known_args(argv)
    if min(args.ids, args.per_id) < 1:
        parser.error("--ids and --per_id must be positive")
    try:
        cfg = load_config(config_argv)
        if not cfg.eval.checkpoint.endswith(".ckpt"):
            raise ConfigError("set eval.checkpoint to the network .ckpt (v and z of each branch are read from it)")
    except ConfigError as error:
        parser.error(str(error))
    return args, cfg


def main(argv=None):
    args, cfg = parse_command_line(sys.argv[1:] if argv is None else argv)
    try:
        import_extra("sklearn.manifold", "t-SNE")
        import_extra("matplotlib", "plotting")
    except MissingExtraError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    from src.datasets.dataset import reader_from_config
    from src.engine.context import setup_context
    from src.models.network import build_network
    from src.models.pretrained import checkpoint_num_classes, load_network_checkpoint
    from src.visualization.embedding import plot_embeddings, tsne_2d

    setup_context(cfg.device_target, cfg.device_id, cfg.graph_mode)
    reader = reader_from_config(cfg.data)
    records = choose_records(reader.every_test_record(reader.test_trials[0]), args.ids, args.per_id, args.seed)
    network = build_network(cfg, checkpoint_num_classes(cfg.eval.checkpoint))
    load_network_checkpoint(network, cfg.eval.checkpoint)
    network.set_train(False)
    found = branch_features(cfg, network, records)
    panels = []
    for variable in ("v", "z"):  # the v maps above the z maps
        for (branch, kind), (features, chosen) in found.items():
            if kind == variable:
                title = f"{branch} branch, {variable} ({len(chosen)} images, {len({r.pid for r in chosen})} ids)"
                panels.append((title, tsne_2d(features, args.seed, args.perplexity), [r.pid for r in chosen],
                               [r.modality for r in chosen]))
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    plot_embeddings(panels, args.out, columns=len({branch for branch, _ in found}))
    print(f"wrote {len(panels)} t-SNE maps ({'; '.join(panel[0] for panel in panels)}) to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
