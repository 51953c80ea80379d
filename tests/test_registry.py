"""The registry type: parts declared once by name, and config choices taken from registries."""

import subprocess
import sys

import pytest

from conftest import REPO_ROOT
from src.config import ConfigError, load_config
from src.registry import Registry, UnknownPartError, config_choices


def test_register_get_and_names_in_order():
    registry = Registry("widget")

    @registry.register("b")
    class B:
        pass

    @registry.register("a")
    def make_a():
        return "a"

    assert registry.names() == ("b", "a")
    assert registry.get("b") is B and registry.get("a")() == "a"
    assert "a" in registry and "c" not in registry
    with pytest.raises(UnknownPartError, match="unknown widget 'c'; registered: b, a"):
        registry.get("c")
    registry.unregister("a")
    assert registry.names() == ("b",)


def test_a_name_is_declared_once():
    registry = Registry("widget")
    registry.register("x")(int)
    registry.register("x")(int)  # the same part again (a module re-imported) is harmless
    with pytest.raises(ValueError, match="already registered"):
        registry.register("x")(float)


def test_a_config_key_takes_its_values_from_one_registry():
    registry = Registry("toy scheduler", config_keys=("train.toy_scheduler_for_test", "train.toy_warmup_for_test"))
    with pytest.raises(ValueError, match="already takes its values"):
        Registry("other", config_keys=("train.toy_warmup_for_test",))
    registry.register("cosine")(object)
    assert config_choices("train.toy_scheduler_for_test") == ("cosine",)
    assert config_choices("train.toy_warmup_for_test") == ("cosine",)
    assert config_choices("train.lr") is None


def test_config_refuses_a_name_no_part_registered():
    # data.dataset is the first key backed by a registry; the message lists what is registered.
    with pytest.raises(ConfigError, match="'data.dataset' must be one of .*sysu"):
        load_config(["--data.dataset", "no_such_dataset"])


@pytest.mark.parametrize("key, value, allowed", [("eval.mode", "outdoor", "all, indoor"), ("eval.shots", "5", "1, 10"),
                                                 ("eval.protocol", "sysu", "agw, official"),
                                                 ("eval.direction", "i2v", "v2t, t2v, standard, both")])
def test_values_a_module_declares_are_the_configs_choices(key, value, allowed):
    # Declared once, by the SYSU reader and the dataset contract (src.options), not in src.config.
    with pytest.raises(ConfigError, match=f"'{key}' must be one of {allowed}; got"):
        load_config([f"--{key}", value])


def test_names_come_from_the_source_and_a_lookup_imports_one_module():
    # Listing the parts imports none of them (nor MindSpore); getting one imports its own module
    # alone (a fresh process, so that nothing is imported yet).
    code = ("import sys; from src.datasets.synthetic.layout import SYNTHETIC_LAYOUTS; "
            "from src.datasets.synthetic.style import STYLES; from src.registry import config_choices; "
            "print(SYNTHETIC_LAYOUTS.names(), STYLES.names(), config_choices('backbone.name'), "
            "'src.datasets.synthetic.layouts.sysu' in sys.modules, 'mindspore' in sys.modules); "
            "SYNTHETIC_LAYOUTS.get('regdb'); "
            "print(sorted(name for name in sys.modules if name.startswith('src.datasets.synthetic.layouts.')), "
            "'src.models' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, check=True)
    assert result.stdout.splitlines() == [
        "('llcm', 'regdb', 'sysu') ('alternative', 'default', 'mixed', 'surveillance') ('resnet',) False False",
        "['src.datasets.synthetic.layouts.regdb'] False"]
