"""Every Table 3 row builds the objective it built before ``loss.terms`` existed, value for value.

``tests/fixtures/table3_objectives.yaml`` holds, per row, the components (names, weights,
unweighted values) and the total that the row's objective gave on one fixed batch when the
rows were still written with the loss flags (``loss.vsd/vcd/vml/cib``, ``loss.beta``; its
header names the commit): once for the row file as it stands (on ``configs/sysu.yaml``), and
once as ``tools/run_ablation.py`` trains it by default, its ``model`` and ``loss`` sections on
top of ``configs/demo.yaml`` (whose mutual-learning weight is 1, not 8). The batch: the network
of the row's ``model`` section, built tiny, supplies the layout (streams, which carry z, the
sizes of v and z); the outputs themselves and the conventional IB critics' parameters are drawn
from numpy, so that nothing but the objective decides the values. Names and weights must match
exactly, values to float32 rounding: MindSpore's CPU kernels do not always repeat the last bit
(the critics' estimate moved by one unit in the last place with the tests run before it in the
same process). Regenerate only on purpose: ``python tests/test_table3_objectives.py``.
"""

import os
import sys
import tempfile

import numpy as np
import yaml
from mindspore import Tensor

TESTS_DIR = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(TESTS_DIR)
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)

from src.config import load_config  # noqa: E402
from src.losses.objective import build_objective  # noqa: E402
from src.models.network import build_network  # noqa: E402
from src.models.outputs import ALL_FIELDS, OBSERVATION_FIELDS, Z_SCALE  # noqa: E402
from tools.run_ablation import read_row  # noqa: E402

FIXTURE = os.path.join(TESTS_DIR, "fixtures", "table3_objectives.yaml")
ROWS = [f"row{number:02d}" for number in range(1, 13)]
ROWS_DIR = os.path.join(REPO_ROOT, "configs", "ablation")
DEMO_PRESET = os.path.join(REPO_ROOT, "configs", "demo.yaml")
# A tiny network: only its layout is used.
TINY = ["--backbone.depth", "10", "--backbone.base_width", "8", "--model.hidden_dims", "[16]", "--model.z_dim", "8",
        "--loss.cib_critic_hidden", "16", "--backbone.pretrained", ""]
CLASSES = 3
LABELS = np.repeat(np.arange(CLASSES), 2).astype(np.int32)  # 3 identities x 2 images, aligned across modalities


def network_outputs(network, seed):
    """One stream tuple per stream of ``network`` (what build_objective reads of it: stream_names,
    bottleneck_streams, observation_dim, z_dim): (B, dim) float32 fields drawn from numpy."""
    rng = np.random.default_rng(seed)
    batch = len(LABELS)
    sizes = (network.observation_dim, CLASSES, network.z_dim, network.z_dim, network.z_dim, CLASSES)
    streams = []
    for name in network.stream_names:
        count = ALL_FIELDS if name in network.bottleneck_streams else OBSERVATION_FIELDS
        fields = [rng.standard_normal((batch, sizes[index])) for index in range(count)]
        if count == ALL_FIELDS:
            fields[Z_SCALE] = np.abs(fields[Z_SCALE])
        streams.append(tuple(Tensor((2 * field).astype(np.float32)) for field in fields))
    return tuple(streams)


def _row_config(row, preset):
    """The resolved configuration of ``row``: its file, or (``preset``) its sections on that preset."""
    path = os.path.join(ROWS_DIR, f"{row}.yaml")
    if preset is None:
        return load_config(["--config_path", path, *TINY])
    _, sections = read_row(ROWS_DIR, ROWS.index(row) + 1)
    with tempfile.TemporaryDirectory() as folder:
        composed = os.path.join(folder, "row_preset.yaml")
        with open(composed, "w", encoding="utf-8") as handle:
            yaml.safe_dump({"base": preset, **sections}, handle, sort_keys=False)
        return load_config(["--config_path", composed, *TINY])


def objective_values(cfg, network, critic_seed, batch_seed):
    """{"components": [[name, weight, unweighted value]], "total": value} of ``cfg``'s objective for
    ``network``, its critics' parameters drawn with ``critic_seed``, on the batch of ``batch_seed``."""
    objective = build_objective(cfg, network, CLASSES)
    rng = np.random.default_rng(critic_seed)
    for parameter in objective.trainable_params():  # the conventional IB's critics
        parameter.set_data(Tensor((0.3 * rng.standard_normal(parameter.shape)).astype(np.float32)))
    total, components = objective(network_outputs(network, batch_seed), Tensor(LABELS))
    return {"components": [[name, float(weight), float(value.asnumpy())]
                           for name, weight, value in zip(objective.component_names, objective.weights, components)],
            "total": float(total.asnumpy())}


def assert_same_objective(found, expected, what):
    """Components' names and weights equal, values and total equal to float32 rounding."""
    assert [component[:2] for component in found["components"]] == \
        [component[:2] for component in expected["components"]], what
    np.testing.assert_allclose([component[2] for component in found["components"]] + [found["total"]],
                               [component[2] for component in expected["components"]] + [expected["total"]],
                               rtol=1e-6, atol=0, err_msg=str(what))


def row_objective(row, preset=None):
    """``objective_values`` of ``row`` (its file, or its sections on ``preset``) on its batch."""
    cfg = _row_config(row, preset)
    index = ROWS.index(row)
    return objective_values(cfg, build_network(cfg, CLASSES), critic_seed=index, batch_seed=100 + index)


def recorded():
    """{"rows": {row: objective}, "rows_on_demo_preset": {row: objective}} of the code at hand."""
    return {"rows": {row: row_objective(row) for row in ROWS},
            "rows_on_demo_preset": {row: row_objective(row, DEMO_PRESET) for row in ROWS}}


def test_every_row_builds_the_objective_it_built_with_the_loss_flags(pynative_mode):
    with open(FIXTURE, encoding="utf-8") as handle:
        expected = yaml.safe_load(handle)
    found = recorded()
    for kind in ("rows", "rows_on_demo_preset"):
        assert sorted(expected[kind]) == ROWS
        for row in ROWS:
            assert_same_objective(found[kind][row], expected[kind][row], (kind, row))


if __name__ == "__main__":
    import subprocess
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True).stdout.strip()
    header = ("# Objective of each Table 3 row (configs/ablation/rowNN.yaml) on one fixed batch, as the row file\n"
              "# gives it (rows) and as tools/run_ablation.py composes it on configs/demo.yaml (rows_on_demo_preset),\n"
              "# written by\n"
              "#   python tests/test_table3_objectives.py   (from the repository root)\n"
              f"# at commit {commit}.\n"
              "# Per row: the components in summation order as [name, weight, unweighted value], then the\n"
              "# weighted total; float32 values written exactly. tests/test_table3_objectives.py draws the batch.\n")
    with open(FIXTURE, "w", encoding="utf-8") as handle:
        handle.write(header + yaml.safe_dump(recorded(), sort_keys=False, default_flow_style=None))
    print(f"wrote {FIXTURE}")
