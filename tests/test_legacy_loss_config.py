"""Runs saved before ``loss.terms`` keep their objective: their config.yaml is read as it meant.

``tests/fixtures/legacy_loss_sections.yaml`` holds, per case, the ``loss`` section a run's
config.yaml had with the loss flags (``loss.vsd/vcd/vml/cib``, ``loss.beta``, ``loss.dml_weight``,
``loss.metric_weight``, ``loss.cib_weight``), and the objective that code built from it on the
full network (every branch with a bottleneck), on one fixed batch. ``legacy_run_config.yaml``
beside it is a whole config.yaml of that time (case ``row09_demo``). Both were written by the
code named in their header; regenerate only on purpose: ``python tests/test_legacy_loss_config.py``.
"""

import os
import sys
from types import SimpleNamespace

import numpy as np
import yaml
from mindspore import Tensor

TESTS_DIR = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(TESTS_DIR)
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)

from src.config import load_config  # noqa: E402
from src.engine.resume import resume_argv  # noqa: E402
from src.losses.objective import build_objective  # noqa: E402
from src.models.outputs import SHARED_STREAMS, SPECIFIC_STREAMS, Z_SCALE  # noqa: E402

SECTIONS_FIXTURE = os.path.join(TESTS_DIR, "fixtures", "legacy_loss_sections.yaml")
RUN_CONFIG_FIXTURE = os.path.join(TESTS_DIR, "fixtures", "legacy_run_config.yaml")
STREAMS = SHARED_STREAMS + SPECIFIC_STREAMS
CLASSES, V_DIM, Z_DIM, CRITIC_HIDDEN = 3, 10, 6, 8
LABELS = np.repeat(np.arange(CLASSES), 2).astype(np.int32)
NETWORK = SimpleNamespace(stream_names=STREAMS, bottleneck_streams=STREAMS, observation_dim=V_DIM, z_dim=Z_DIM)
DEMO_PRESET = os.path.join(REPO_ROOT, "configs", "demo.yaml")

# Old command lines (the loss flags) and the keys their saved config.yaml lacked (saved before they existed).
LEGACY_CASES = {
    "defaults": ([], ()),
    "row09_demo": (["--config_path", DEMO_PRESET, "--loss.cib", "true", "--loss.vsd", "false", "--loss.vcd", "false",
                    "--loss.vml", "false"], ()),
    "weights_without_vml": (["--loss.beta", "0.5", "--loss.metric_weight", "0.7", "--loss.dml_weight", "3",
                             "--loss.vml", "false", "--loss.metric", "triplet"], ()),
    "cib_weight_apart_from_beta": (["--loss.cib", "true", "--loss.vsd", "false", "--loss.vcd", "false",
                                    "--loss.vml", "false", "--loss.cib_weight", "0.25", "--loss.beta", "3"], ()),
    "cib_before_cib_weight": (["--loss.cib", "true", "--loss.vsd", "false", "--loss.vcd", "false", "--loss.vml",
                               "false", "--loss.beta", "0.1"], ("cib_weight", "cib_observation_grad")),
    "no_metric_no_vsd": (["--loss.metric", "none", "--loss.vsd", "false"], ()),
}


def _outputs(seed):
    """One stream tuple per stream, every field (B, dim) float32 drawn from numpy."""
    rng = np.random.default_rng(seed)
    sizes = (V_DIM, CLASSES, Z_DIM, Z_DIM, Z_DIM, CLASSES)
    streams = []
    for _ in STREAMS:
        fields = [2 * rng.standard_normal((len(LABELS), size)) for size in sizes]
        fields[Z_SCALE] = np.abs(fields[Z_SCALE])
        streams.append(tuple(Tensor(field.astype(np.float32)) for field in fields))
    return tuple(streams)


def objective_of(cfg, seed):
    """{"components": [[name, weight, value]], "total": value} of ``cfg``'s objective on the batch of ``seed``."""
    objective = build_objective(cfg, NETWORK, CLASSES)
    rng = np.random.default_rng(seed)
    for parameter in objective.trainable_params():  # the conventional IB's critics
        parameter.set_data(Tensor((0.3 * rng.standard_normal(parameter.shape)).astype(np.float32)))
    total, components = objective(_outputs(seed), Tensor(LABELS))
    return {"components": [[name, float(weight), float(value.asnumpy())]
                           for name, weight, value in zip(objective.component_names, objective.weights, components)],
            "total": float(total.asnumpy())}


def resumed_config(saved, folder):
    """The configuration ``train.py --resume`` reads from a run folder whose config.yaml is ``saved`` (a dict)."""
    os.makedirs(os.path.join(folder, "checkpoints"))
    with open(os.path.join(folder, "checkpoints", "state.json"), "w", encoding="utf-8") as handle:
        handle.write("{}")
    with open(os.path.join(folder, "config.yaml"), "w", encoding="utf-8") as handle:
        yaml.safe_dump(saved, handle, sort_keys=False, default_flow_style=None)
    return load_config(resume_argv(["--resume", folder]))


if __name__ == "__main__":
    import subprocess
    import tempfile
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True).stdout.strip()
    cases = {}
    with tempfile.TemporaryDirectory() as root:
        for seed, (name, (options, absent)) in enumerate(LEGACY_CASES.items()):
            saved = load_config([*options, "--loss.cib_critic_hidden", str(CRITIC_HIDDEN)]).to_dict()
            saved["loss"] = {key: value for key, value in saved["loss"].items() if key not in absent}
            cases[name] = {"options": options[2:] if options[:1] == ["--config_path"] else options,
                           "loss": saved["loss"],
                           "objective": objective_of(resumed_config(saved, os.path.join(root, name)), seed)}
    how = (f"# written by `python tests/test_legacy_loss_config.py` (from the repository root) at commit\n"
           f"# {commit}, before loss.terms, with the loss flags.\n")
    with open(SECTIONS_FIXTURE, "w", encoding="utf-8") as handle:
        handle.write("# Per case: the command-line options (on configs/demo.yaml for row09_demo), the loss section\n"
                     "# config.yaml saved (cib_before_cib_weight: without the keys added on 2026-12-04), and the\n"
                     "# objective a resumed run built from that config.yaml (train.py --resume), on every branch\n"
                     "# with a bottleneck and one fixed batch: [name, weight, unweighted value] in summation order,\n"
                     "# then the weighted total.\n" + how)
        handle.write(yaml.safe_dump(cases, sort_keys=False, default_flow_style=None))
    options = LEGACY_CASES["row09_demo"][0]
    text = yaml.safe_dump(load_config([*options, "--output_dir", "runs/row09_demo"]).to_dict(), sort_keys=False,
                          default_flow_style=None)
    with open(RUN_CONFIG_FIXTURE, "w", encoding="utf-8") as handle:
        handle.write("# config.yaml of a run saved with the loss flags: Table 3 row 9 on configs/demo.yaml,\n" + how
                     + text.replace(REPO_ROOT, "REPO"))
    print(f"wrote {SECTIONS_FIXTURE} and {RUN_CONFIG_FIXTURE}")
