"""Every preset loads, builds the Table 3 setting it names, and trains: the loss goes down.

The network and objective are built exactly as the presets say, shrunk only in size
(ResNet-10, 32 x 16 images, small bottleneck and critic), and trained with the preset's
own learning rate. PyNative mode: one graph compilation per preset would cost more than
the few steps themselves. The dataset presets build the same network and objective as
row 12 (they differ only in data), so only the twelve rows are trained.
"""

import glob
import os

import mindspore as ms
import numpy as np
import pytest
from mindspore import Tensor, nn

from src.config import load_config
from src.losses.objective import build_objective
from src.models.network import build_network
from src.models.outputs import SHARED_STREAMS, SPECIFIC_STREAMS

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIGS = os.path.join(REPO_ROOT, "configs")
SMALL = ["--backbone.depth", "10", "--data.height", "32", "--data.width", "16", "--model.hidden_dims", "[32, 16]",
         "--model.z_dim", "8", "--loss.cib_critic_hidden", "16", "--backbone.pretrained", ""]
BOTH = SHARED_STREAMS + SPECIFIC_STREAMS
FULL = ("cls", "metric", "dml", "vsd", "vcd", "vml")
# Eq. 16-17: alpha = 8 on DML, beta = 2 on VSD, VCD, VML (and on the conventional IB's compression).
PAPER_WEIGHTS = {"cls": 1.0, "metric": 1.0, "dml": 8.0, "vsd": 2.0, "vcd": 2.0, "vml": 2.0, "cib": 2.0}

# Table 3: (streams, streams with a bottleneck, loss components) of each row.
TABLE_3 = {
    "row01": (SHARED_STREAMS, (), ("cls", "metric")),
    "row02": (SPECIFIC_STREAMS, (), ("cls", "metric")),
    "row03": (BOTH, (), ("cls", "metric", "dml")),
    "row04": (SHARED_STREAMS, SHARED_STREAMS, ("cls", "metric")),
    "row05": (SPECIFIC_STREAMS, SPECIFIC_STREAMS, ("cls", "metric")),
    "row06": (BOTH, BOTH, ("cls", "metric", "dml")),
    "row07": (SHARED_STREAMS, SHARED_STREAMS, ("cls", "metric", "cib")),
    "row08": (SPECIFIC_STREAMS, SPECIFIC_STREAMS, ("cls", "metric", "cib")),
    "row09": (BOTH, BOTH, ("cls", "metric", "cib")),
    "row10": (SHARED_STREAMS, SHARED_STREAMS, ("cls", "metric", "vcd", "vml")),
    "row11": (SPECIFIC_STREAMS, SPECIFIC_STREAMS, ("cls", "metric", "vsd")),
    "row12": (BOTH, BOTH, FULL),
}
DATASET_PRESETS = [os.path.join(CONFIGS, f"{dataset}.yaml") for dataset in ("sysu", "regdb", "llcm")]
ABLATION_PRESETS = sorted(glob.glob(os.path.join(CONFIGS, "ablation", "*.yaml")))


def _name(path):
    return os.path.splitext(os.path.basename(path))[0]


class _TotalLoss(nn.Cell):
    def __init__(self, network, objective):
        super().__init__()
        self.network = network
        self.objective = objective

    def construct(self, visible, infrared, labels, noise):
        return self.objective(self.network(visible, infrared, noise), labels)[0]


def test_every_table_3_row_has_a_preset():
    assert [_name(path) for path in ABLATION_PRESETS] == sorted(TABLE_3)
    assert all(os.path.isfile(path) for path in DATASET_PRESETS)


def _built(path):
    cfg = load_config(["--config_path", path] + SMALL)
    num_classes = 2
    network = build_network(cfg, num_classes)
    return cfg, network, build_objective(cfg, network, num_classes)


def _check_setting(path, cfg, network, objective):
    name = _name(path)
    if name in TABLE_3:
        assert cfg.data.dataset == "sysu" and cfg.eval.mode == "all" and cfg.eval.shots == 1
        assert cfg.model.test_feature == "v"
    else:
        assert cfg.data.dataset == name
    streams, bottlenecks, components = TABLE_3.get(name, (BOTH, BOTH, FULL))
    assert network.stream_names == streams
    assert network.bottleneck_streams == bottlenecks
    assert objective.component_names == components
    # The paper's hyper-parameters (section 4.2, Eq. 16-17) in every preset.
    assert (cfg.train.lr, cfg.train.epochs, cfg.train.warmup_epochs, cfg.train.decay_epochs) == (2.6e-4, 300, 10, [200])
    assert (cfg.data.batch_ids, cfg.data.per_modality) == (16, 2)
    assert {name: PAPER_WEIGHTS[name] for name in cfg.loss.terms} == cfg.loss.terms
    assert cfg.loss.label_smoothing == 0.1


@pytest.mark.parametrize("path", DATASET_PRESETS, ids=_name)
def test_dataset_preset_builds_the_full_method(path):
    ms.set_context(mode=ms.PYNATIVE_MODE)
    _check_setting(path, *_built(path))


@pytest.mark.parametrize("row", sorted(TABLE_3))
def test_ablation_row_builds_its_setting_and_training_lowers_the_loss(row):
    ms.set_context(mode=ms.PYNATIVE_MODE)
    ms.set_seed(0)
    path = os.path.join(CONFIGS, "ablation", f"{row}.yaml")
    cfg, network, objective = _built(path)
    _check_setting(path, cfg, network, objective)
    rng = np.random.default_rng(0)
    num_classes, per_modality = 2, 2
    batch = num_classes * per_modality
    shape = (batch, 3, cfg.data.height, cfg.data.width)
    visible = Tensor(rng.standard_normal(shape).astype(np.float32))
    infrared = Tensor(rng.standard_normal(shape).astype(np.float32))
    labels = Tensor(np.repeat(np.arange(num_classes), per_modality).astype(np.int32))
    noise = Tensor(rng.standard_normal(network.noise_shape(batch)).astype(np.float32))

    loss_network = _TotalLoss(network, objective)
    optimizer = nn.Adam(network.trainable_params() + objective.trainable_params(), learning_rate=cfg.train.lr)
    train_step = nn.TrainOneStepCell(loss_network, optimizer)
    train_step.set_train()

    conventional_ib = "cib" in objective.component_names

    def descended_loss():
        # The conventional IB's weighted I_JS is a min-max term (its critic ascends it): only the
        # rest of the total, the supervision of z, must go down.
        total, components = objective(network(visible, infrared, noise), labels)
        if conventional_ib:
            total = total - cfg.loss.terms["cib"] * components[objective.component_names.index("cib")]
        return float(total.asnumpy())

    losses = [descended_loss()]
    for _ in range(2):
        train_step(visible, infrared, labels, noise)
        losses.append(descended_loss())
    assert all(np.isfinite(losses)), losses
    if conventional_ib:
        # I_JS also moves z, so the metric loss on z may rise for a step before it falls.
        assert losses[2] < losses[0], losses
    else:
        assert losses[2] < losses[1] < losses[0], losses
