"""Trainable parameters of the network, per part and in total.

    python -m tools.parameter_count [--config_path FILE] [--key value ...]

The network is built from the ``model`` and ``backbone`` sections as training builds it (without loading
pretrained weights), for the training identities of ``data.dataset``'s standard split
(the dataset's ``standard_num_classes``; no data is read).
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import src  # noqa: E402,F401  (sets the oneDNN ISA before MindSpore loads)
from src.config import load_config_or_exit  # noqa: E402
from src.datasets.dataset import dataset_class  # noqa: E402

# Branch attributes of VIReIDNetwork and the parts counted inside each branch.
BRANCHES = ("shared_branch", "visible_branch", "infrared_branch")
PARTS = {"encoder": ("encoder",), "bottleneck": ("bottleneck",), "heads": ("neck", "classifier", "z_classifier")}


def _trainable(cell):
    return sum(parameter.size for parameter in cell.trainable_params())


def parameter_counts(network):
    """{(branch, part): trainable parameter count} for every branch and part that exists."""
    counts = {}
    for branch_name in BRANCHES:
        branch = getattr(network, branch_name)
        if branch is None:
            continue
        for part, attributes in PARTS.items():
            cells = [getattr(branch, attribute) for attribute in attributes if getattr(branch, attribute) is not None]
            if cells:
                counts[(branch_name, part)] = sum(_trainable(cell) for cell in cells)
    return counts


def format_counts(counts, total):
    lines = [f"{'branch':<16} {'part':<11} {'parameters':>12}"]
    for (branch, part), count in counts.items():
        lines.append(f"{branch:<16} {part:<11} {count:>12,} ({count / 1e6:.2f}M)")
    lines.append(f"{'total':<28} {total:>12,} ({total / 1e6:.2f}M)")
    return "\n".join(lines)


def main(argv=None):
    cfg = load_config_or_exit(__doc__, argv)
    from src.models.network import build_network  # imports MindSpore: after the config is known to be valid

    num_classes = dataset_class(cfg.data.dataset).standard_num_classes
    cfg.backbone.pretrained = ""  # counts only: no weights to read
    network = build_network(cfg, num_classes)
    counts = parameter_counts(network)
    total = _trainable(network)
    print(f"backbone {cfg.backbone.name} ({dict(cfg.backbone)}), branches {list(cfg.model.branches)}, {num_classes} classes "
          f"({cfg.data.dataset}), trainable parameters:")
    print(format_counts(counts, total))
    return 0


if __name__ == "__main__":
    sys.exit(main())
