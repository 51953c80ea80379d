"""Convert torchvision ResNet weights (.pth) to a MindSpore checkpoint in this project's names.

    python tools/convert_torchvision_resnet.py resnet50-0676ba61.pth resnet50_imagenet.ckpt

Needs PyTorch (an optional dependency of this tool only). The renaming is
``src.models.pretrained.torchvision_to_project_names``; the result loads with
``--backbone.pretrained OUT.ckpt`` (the ImageNet classifier ``fc`` is kept in the file and
dropped at loading).
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import src  # noqa: E402,F401  (sets the oneDNN ISA before MindSpore loads)
from src.models.pretrained import torchvision_to_project_names  # noqa: E402


def read_torch_state_dict(path):
    """{name: numpy array} from a torchvision .pth (a state dict, or a dict holding one)."""
    try:
        import torch
    except ImportError:
        sys.exit("this tool needs PyTorch to read .pth files: pip install torch (CPU build is enough)")
    state = torch.load(path, map_location="cpu", weights_only=True)
    if isinstance(state, dict) and "state_dict" in state:
        state = state["state_dict"]
    if not isinstance(state, dict):
        sys.exit(f"{path} does not hold a state dict (got {type(state).__name__})")
    return {name: value.detach().cpu().numpy() for name, value in state.items()}


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 2 or argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0 if argv and argv[0] in ("-h", "--help") else 2
    source, target = argv
    import mindspore as ms

    converted = torchvision_to_project_names(read_torch_state_dict(source))
    ms.save_checkpoint([{"name": name, "data": ms.Tensor(value)} for name, value in converted.items()], target)
    print(f"wrote {len(converted)} parameters to {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
