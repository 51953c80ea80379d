"""Configuration: defaults, inheritance, command-line overrides and the errors they raise."""

import os

import pytest
import yaml

from src.config import DEFAULT_CONFIG_PATH, ConfigError, _documented_options, flatten, load_config
from src.registry import declared_options


def write_yaml(path, content):
    path.write_text(yaml.safe_dump(content))
    return str(path)


def test_defaults_match_the_yaml_file():
    with open(DEFAULT_CONFIG_PATH) as handle:
        raw = yaml.safe_load(handle)
    config = load_config([])
    assert config.train.lr == pytest.approx(raw["train"]["lr"])
    assert config.model.branches == raw["model"]["branches"]
    assert config.config_path == ""


def test_every_default_has_a_comment():
    with open(DEFAULT_CONFIG_PATH) as handle:
        lines = handle.read().splitlines()
    for line in lines:
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        key, _, value = stripped.partition(":")
        if value.strip():  # a leaf, not a section header
            assert "#" in value, f"option '{key}' has no comment in default_config.yaml"


def test_the_defaults_file_agrees_with_the_declarations():
    # Every option is declared once, beside the code that reads it (src.options); the defaults
    # file lists the same keys, with the same defaults and the same comments.
    with open(DEFAULT_CONFIG_PATH) as handle:
        defaults = flatten(yaml.safe_load(handle))
    written = {key: comment for _, options in _documented_options(DEFAULT_CONFIG_PATH) for key, _, comment in options}
    declared = declared_options()
    assert sorted(declared) == sorted(defaults)
    for key, option in declared.items():
        assert option.default == defaults[key] and type(option.default) is type(defaults[key]), key
        assert option.comment == written[key], key


def test_a_parts_options_are_checked_only_when_it_is_selected():
    # backbone.depth belongs to the resnet backbone; cib_critic_hidden to the cib term.
    with pytest.raises(ConfigError, match="'backbone.depth' must be one of 10, 18, 34, 50; got 12"):
        load_config(["--backbone.depth", "12"])
    with pytest.raises(ConfigError, match="'loss.cib_critic_hidden' must be at least 1; got 0"):
        load_config(["--loss.terms", "{cls: 1.0, cib: 2.0}", "--loss.cib_critic_hidden", "0"])
    assert load_config(["--loss.cib_critic_hidden", "0"]).loss.cib_critic_hidden == 0  # no cib term


def test_preset_inheritance_and_override_order(tmp_path):
    write_yaml(tmp_path / "parent.yaml", {"seed": 7, "train": {"lr": 0.1, "epochs": 5}})
    child = write_yaml(tmp_path / "child.yaml", {"base": "parent.yaml", "train": {"epochs": 9}})
    config = load_config(["--config_path", child, "--train.lr", "0.5"])
    assert config.seed == 7                      # from the parent
    assert config.train.epochs == 9              # the child overrides the parent
    assert config.train.lr == 0.5                # the command line overrides both
    assert config.train.warmup_epochs == 10      # untouched defaults remain
    assert config.config_path == os.path.abspath(child)


def test_overrides_are_typed_by_the_default():
    config = load_config([
        "--seed", "3", "--train.lr=1e-3", "--eval.flip_tta", "false", "--model.branches", "[shared]",
        "--train.decay_epochs", "100,150", "--output_dir", "runs/x", "--model.hidden_dims", "[64, 32]",
    ])
    assert config.seed == 3 and isinstance(config.seed, int)
    assert config.train.lr == pytest.approx(1e-3)
    assert config.eval.flip_tta is False
    assert config.model.branches == ["shared"]
    assert config.train.decay_epochs == [100, 150]
    assert config.model.hidden_dims == [64, 32]
    assert config.output_dir == "runs/x"


def test_float_option_accepts_integer_and_exponent_in_yaml(tmp_path):
    preset = write_yaml(tmp_path / "p.yaml", {"train": {"lr": 1}})
    assert load_config(["--config_path", preset]).train.lr == 1.0
    (tmp_path / "e.yaml").write_text("train:\n  lr: 1e-4\n")
    assert load_config(["--config_path", str(tmp_path / "e.yaml")]).train.lr == pytest.approx(1e-4)


def test_unknown_key_names_the_closest_valid_keys(tmp_path):
    with pytest.raises(ConfigError, match=r"unknown config key 'train\.lrr'.*train\.lr"):
        load_config(["--train.lrr", "0.1"])
    with pytest.raises(ConfigError, match=r"'batch_ids'.*data\.batch_ids"):
        load_config(["--batch_ids", "4"])
    preset = write_yaml(tmp_path / "bad.yaml", {"backbone": {"detph": 18}})
    with pytest.raises(ConfigError, match=r"backbone\.detph.*bad\.yaml.*backbone\.depth"):
        load_config(["--config_path", preset])


def test_wrong_type_names_key_and_type(tmp_path):
    with pytest.raises(ConfigError, match=r"'train\.epochs' must be an integer, got 'ten'"):
        load_config(["--train.epochs", "ten"])
    with pytest.raises(ConfigError, match=r"'eval\.rerank' must be a boolean"):
        load_config(["--eval.rerank", "maybe"])
    preset = write_yaml(tmp_path / "t.yaml", {"data": {"height": "tall"}})
    with pytest.raises(ConfigError, match=r"'data\.height' must be an integer"):
        load_config(["--config_path", preset])


def test_bad_choice_and_out_of_range_name_what_is_allowed():
    with pytest.raises(ConfigError, match=r"'eval\.protocol' must be one of agw, official; got 'sysu'"):
        load_config(["--eval.protocol", "sysu"])
    with pytest.raises(ConfigError, match=r"'backbone\.depth' must be one of 10, 18, 34, 50; got 101"):
        load_config(["--backbone.depth", "101"])
    with pytest.raises(ConfigError, match=r"'data\.flip_prob' must be between 0\.0 and 1\.0; got 1\.5"):
        load_config(["--data.flip_prob", "1.5"])
    with pytest.raises(ConfigError, match=r"'model\.branches' must be one of shared, specific; got 'both'"):
        load_config(["--model.branches", "[both]"])


def test_malformed_command_lines_are_errors(tmp_path):
    with pytest.raises(ConfigError, match="needs a value"):
        load_config(["--seed"])
    with pytest.raises(ConfigError, match="unexpected argument"):
        load_config(["seed", "3"])
    with pytest.raises(ConfigError, match="not found"):
        load_config(["--config_path", str(tmp_path / "missing.yaml")])
    loop = tmp_path / "loop.yaml"
    loop.write_text("base: loop.yaml\n")
    with pytest.raises(ConfigError, match="loops"):
        load_config(["--config_path", str(loop)])


def test_resolved_config_round_trips_through_save(tmp_path):
    config = load_config(["--seed", "5", "--model.branches", "[specific]"])
    saved = tmp_path / "run" / "config.yaml"
    config.save(str(saved))
    reloaded = load_config(["--config_path", str(saved)])
    assert reloaded.to_dict() | {"config_path": ""} == config.to_dict() | {"config_path": ""}


def test_a_mapping_keeps_its_order_is_replaced_whole_and_unweighted_names_inherit(tmp_path):
    (tmp_path / "parent.yaml").write_text("loss:\n  terms: {cls: 1.0, metric: 0.5, dml: 3}\n")
    (tmp_path / "child.yaml").write_text("base: parent.yaml\nloss:\n  terms: {dml, cls, vsd: 4}\n")
    child = str(tmp_path / "child.yaml")
    # The child's names in its order, the parent's weights for those without one, integers as floats.
    assert list(load_config(["--config_path", child]).loss.terms.items()) == [("dml", 3.0), ("cls", 1.0), ("vsd", 4.0)]
    overridden = load_config(["--config_path", child, "--loss.terms", "{vsd, metric: 0.25}"])
    assert list(overridden.loss.terms.items()) == [("vsd", 4.0), ("metric", 0.25)]
    defaults = load_config([]).loss.terms
    assert list(load_config(["--loss.terms", "{vml, cls}"]).loss.terms.items()) == [("vml", defaults["vml"]),
                                                                                    ("cls", defaults["cls"])]
    saved = tmp_path / "run" / "config.yaml"
    overridden.save(str(saved))
    assert list(load_config(["--config_path", str(saved)]).loss.terms.items()) == [("vsd", 4.0), ("metric", 0.25)]


def test_bad_mappings_name_the_problem():
    with pytest.raises(ConfigError, match=r"'loss\.terms' must be a mapping such as \"\{cls: 1\.0, metric: 1\.0\}\""):
        load_config(["--loss.terms", "[cls, metric]"])
    with pytest.raises(ConfigError, match=r"'loss\.terms' must be a non-empty mapping, got \{\}"):
        load_config(["--loss.terms", "{}"])
    with pytest.raises(ConfigError, match=r"'loss\.terms' must be a number, got 'heavy'"):
        load_config(["--loss.terms", "{cls: heavy}"])
    with pytest.raises(ConfigError, match=r"'loss\.terms' gives cib no value and inherits none .*cib: VALUE"):
        load_config(["--loss.terms", "{cls, cib}"])
    with pytest.raises(ConfigError, match=r"'loss\.terms' names 'vsx', which is not registered; registered: "
                                          r"cib, cls, dml, metric, vcd, vml, vsd$"):
        load_config(["--loss.terms", "{cls, vsx: 1.0}"])
    with pytest.raises(ConfigError, match=r"'loss\.terms' value of 'dml' must be at least 0\.0; got -8\.0"):
        load_config(["--loss.terms", "{cls, dml: -8}"])
