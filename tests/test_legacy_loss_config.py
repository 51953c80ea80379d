"""Runs saved before ``loss.terms`` keep their objective: their config.yaml is read as it meant.

``tests/fixtures/legacy_loss_sections.yaml`` holds, per case, the ``loss`` section a run's
config.yaml had with the loss flags (``loss.vsd/vcd/vml/cib``, ``loss.beta``, ``loss.dml_weight``,
``loss.metric_weight``, ``loss.cib_weight``), and the objective a resumed run built from it
(every branch with a bottleneck, one fixed batch). ``legacy_run_config.yaml`` beside it is a
whole config.yaml of that time (Table 3 row 9 on configs/demo.yaml). Their headers name the
commit whose code wrote them, before the flags were retired.
"""

import os
from types import SimpleNamespace

import pytest
import yaml

from src.config import REPO_ROOT, ConfigError, load_config
from src.engine.resume import check_resume_changes, resume_argv
from src.models.outputs import SHARED_STREAMS, SPECIFIC_STREAMS
from test_table3_objectives import assert_same_objective, objective_values
from tools.run_ablation import differing_keys, read_saved_config, training_settings

FIXTURES = os.path.join(REPO_ROOT, "tests", "fixtures")
STREAMS = SHARED_STREAMS + SPECIFIC_STREAMS
# The network layout the fixture's objectives were computed for: every branch with a bottleneck.
NETWORK = SimpleNamespace(stream_names=STREAMS, bottleneck_streams=STREAMS, observation_dim=10, z_dim=6)


def _read_yaml(path):
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def _read_fixture(name):
    return _read_yaml(os.path.join(FIXTURES, name))


def _old_run(folder, loss=None):
    """A run folder holding the old config.yaml (its loss section replaced by ``loss``) and a state pointer."""
    saved = _read_fixture("legacy_run_config.yaml")
    if loss is not None:
        saved["loss"] = loss
    os.makedirs(os.path.join(folder, "checkpoints"))
    with open(os.path.join(folder, "checkpoints", "state.json"), "w", encoding="utf-8") as handle:
        handle.write("{}")
    with open(os.path.join(folder, "config.yaml"), "w", encoding="utf-8") as handle:
        yaml.safe_dump(saved, handle, sort_keys=False)
    return str(folder)


def test_each_old_loss_section_resumes_with_the_objective_it_had(tmp_path, pynative_mode):
    cases = _read_fixture("legacy_loss_sections.yaml")
    assert len(cases) == 6
    for seed, (name, case) in enumerate(cases.items()):
        run = _old_run(tmp_path / name, case["loss"])
        cfg = load_config(resume_argv(["--resume", run]))
        assert check_resume_changes(cfg, run) == [], name
        found = objective_values(cfg, NETWORK, critic_seed=seed, batch_seed=seed)
        assert_same_objective(found, case["objective"], name)


@pytest.mark.parametrize("name, terms, on", [
    ("defaults", {"cls": 1.0, "metric": 1.0, "dml": 8.0, "vsd": 2.0, "vcd": 2.0, "vml": 2.0}, ["v", "z"]),
    ("row09_demo", {"cls": 1.0, "metric": 1.0, "cib": 2.0}, ["z"]),
    ("weights_without_vml", {"cls": 1.0, "metric": 0.7, "dml": 3.0, "vsd": 0.5, "vcd": 0.5}, ["v", "z"]),
    ("cib_weight_apart_from_beta", {"cls": 1.0, "metric": 1.0, "cib": 0.25}, ["z"]),
    ("cib_before_cib_weight", {"cls": 1.0, "metric": 1.0, "cib": 0.1}, ["z"]),  # beta weighed the compression then
    ("no_metric_no_vsd", {"cls": 1.0, "dml": 8.0, "vcd": 2.0, "vml": 2.0}, ["v", "z"]),
])
def test_the_flags_are_read_as_loss_terms(tmp_path, name, terms, on):
    loss = _read_fixture("legacy_loss_sections.yaml")[name]["loss"]
    cfg = load_config(["--config_path", os.path.join(_old_run(tmp_path / "run", loss), "config.yaml")])
    assert list(cfg.loss.terms.items()) == list(terms.items())
    assert (cfg.loss.cls_on, cfg.loss.metric_on) == (on, on)
    expected_metric = "ranked_list" if loss["metric"] == "none" else loss["metric"]
    assert (cfg.loss.metric, cfg.loss.cib_critic_hidden) == (expected_metric, loss["cib_critic_hidden"])
    assert cfg.loss.cib_observation_grad == loss.get("cib_observation_grad", True)


def test_an_old_run_resumes_evaluates_and_is_reused_by_the_ablation(tmp_path):
    run = _old_run(tmp_path / "run")
    saved_path = os.path.join(run, "config.yaml")
    resumed = load_config(resume_argv(["--resume", run, "--train.epochs", "30"]))
    assert check_resume_changes(resumed, run) == [("train.epochs", 25, 30)]
    with pytest.raises(ConfigError, match=r"cannot resume .*loss\.terms \("):
        check_resume_changes(load_config(resume_argv(["--resume", run, "--loss.terms", "{cls, metric, cib: 0.5}"])),
                             run)
    # eval.py, export.py and the tools read a run's configuration with --config_path.
    evaluated = load_config(["--config_path", saved_path, "--eval.checkpoint", "network_last.ckpt"])
    assert evaluated.model == resumed.model and evaluated.loss == resumed.loss
    # tools/run_ablation.py compares it with today's row 9 on the same preset: the same training.
    row = _read_yaml(os.path.join(REPO_ROOT, "configs", "ablation", "row09.yaml"))
    preset = tmp_path / "row_preset.yaml"
    preset.write_text(yaml.safe_dump({"base": os.path.join(REPO_ROOT, "configs", "demo.yaml"), "model": row["model"],
                                      "loss": row["loss"]}))
    today = load_config(["--config_path", str(preset), "--output_dir", "runs/row09_demo"]).to_dict()
    assert differing_keys(training_settings(read_saved_config(saved_path)), training_settings(today)) == []


# The loss section of a flag-era config.yaml of Table 3 row 1 (runs/study/row01, 2026-12-03):
# E_S alone, so the DML weight it holds built nothing.
ROW01_FLAG_ERA_LOSS = {
    "label_smoothing": 0.1, "metric": "ranked_list", "metric_weight": 1.0, "rll_margin": 0.4, "rll_alpha": 1.2,
    "rll_temperature": 10.0, "triplet_margin": 0.3, "dml_weight": 1.0, "beta": 2.0, "vsd": False, "vcd": False,
    "vml": False, "detach_teacher": True, "cib": False, "cib_critic_hidden": 1609, "cib_weight": 2.0,
    "cib_observation_grad": True}


def test_an_old_run_of_a_network_without_dml_is_reused_by_the_ablation(tmp_path):
    row = _read_yaml(os.path.join(REPO_ROOT, "configs", "ablation", "row01.yaml"))
    preset = tmp_path / "row_preset.yaml"
    preset.write_text(yaml.safe_dump({"base": os.path.join(REPO_ROOT, "configs", "demo.yaml"), "model": row["model"],
                                      "loss": row["loss"]}))
    today = load_config(["--config_path", str(preset), "--output_dir", "runs/row01_demo"]).to_dict()
    saved = _read_fixture("legacy_run_config.yaml")
    saved.update(model={**saved["model"], **row["model"]}, loss=ROW01_FLAG_ERA_LOSS, output_dir="runs/row01_demo")
    saved_path = tmp_path / "config.yaml"
    saved_path.write_text(yaml.safe_dump(saved, sort_keys=False))
    assert list(read_saved_config(str(saved_path))["loss"]["terms"]) == ["cls", "metric"]
    assert differing_keys(training_settings(read_saved_config(str(saved_path))), training_settings(today)) == []


def test_a_preset_naming_only_some_flags_is_refused_with_the_new_spelling(tmp_path):
    preset = tmp_path / "old_preset.yaml"
    preset.write_text(f"base: {os.path.join(REPO_ROOT, 'configs', 'demo.yaml')}\nloss:\n  vsd: false\n  beta: 3.0\n")
    with pytest.raises(ConfigError, match=r"loss\.vsd, loss\.beta no longer exist \(.*old_preset\.yaml\): "
                                          r"the objective is now loss\.terms"):
        load_config(["--config_path", str(preset)])
    with pytest.raises(ConfigError, match=r"'loss\.cib' no longer exists \(on the command line\): .*cls_on \[z\]"):
        load_config(["--loss.cib", "true"])
