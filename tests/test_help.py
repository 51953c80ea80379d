"""--help of train.py, eval.py and export.py: generated from default_config.yaml (every option,
its default, its allowed values, its comment), after the usage examples as written."""

import pytest
import yaml

import eval as eval_entry
import export as export_entry
import train as train_entry
from src.config import DEFAULT_CONFIG_PATH, flatten


def help_page(entry, capsys):
    with pytest.raises(SystemExit) as stopped:
        entry.main(["--data.dataset", "sysu", "--help"])
    assert stopped.value.code == 0
    return capsys.readouterr().out


@pytest.mark.parametrize("entry", [train_entry, eval_entry, export_entry])
def test_help_lists_every_option_after_the_usage_examples(entry, capsys):
    page = help_page(entry, capsys)
    assert entry.__doc__.strip() in page
    flags = {line.split()[0] for line in page.splitlines() if line.startswith("  --")}
    with open(DEFAULT_CONFIG_PATH) as handle:
        keys = set(flatten(yaml.safe_load(handle)))  # a mapping-valued option (loss.terms) is one key
    assert {f"--{key}" for key in keys} <= flags
    assert len(keys) > 80


def test_help_shows_default_allowed_values_and_comment(capsys):
    lines = help_page(train_entry, capsys).splitlines()

    def described(flag_line):
        return lines[lines.index(flag_line) + 1].strip()
    assert described("  --train.lr 2.6e-4") == "initial learning rate (Adam) (at least 0.0)"
    assert described("  --eval.distance cosine") == (
        "cosine, euclidean or inner_product (rank by -q.g, as the reference test scripts do) "
        "(one of: cosine, euclidean, inner_product)")
    assert described("  --model.branches [shared, specific]") == (
        "encoders: shared (E_S) and/or specific (E_V and E_I) (one of: shared, specific)")
    assert lines.index("[data]") < lines.index("  --data.dataset sysu") < lines.index("[model]")
    assert "  --resume RUN" in lines


def test_eval_help_names_its_short_aliases(capsys):
    lines = help_page(eval_entry, capsys).splitlines()
    assert lines[lines.index("  --distance") + 1].strip() == "same as --eval.distance"
