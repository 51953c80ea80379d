"""Configuration: defaults from ``default_config.yaml``, a preset, command-line overrides.

Resolution order (later wins):
1. ``default_config.yaml`` at the repository root: every option, with its type.
2. ``--config_path FILE``: a preset naming only what differs. A preset may say
   ``base: OTHER.yaml`` (relative to the preset's folder) to inherit from another preset;
   chains end at the defaults.
3. ``--key value`` / ``--section.key value`` (or ``--key=value``) on the command line.

Every value is checked against the default's type, and against ``CHOICES`` / ``RANGES``
below; keys whose values name registered parts (``src.registry``) take their choices from the
registry. Errors are ``ConfigError`` with a message naming the key and what is allowed.

A few keys hold a mapping (``MAPPINGS``, e.g. ``loss.terms``: term name -> weight), kept in the
order written. A preset or the command line replaces such a mapping whole; a name written
without a value (``{cls, metric, dml: 1.0}``) keeps the value it had in the configuration being
overridden (the preset inherited from, else the defaults). A file saved with options that no
longer exist is read as it meant (``src.retired_options``).
"""

import copy
import difflib
import os
import re
import sys

import yaml

from src.errors import USAGE_ERROR_STATUS, AnticipatedError, one_line
from src.registry import config_choices
from src.retired_directions import eval_direction_as_now
from src.retired_options import (HOW_TO_WRITE, RETIRED_LOSS_KEYS, loss_section_from_flags, retired_loss_keys,
                                 saved_with_flags)
from src.utils.safe_write import write_atomically

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_CONFIG_PATH = os.path.join(REPO_ROOT, "default_config.yaml")

# Keys whose value is a mapping, in the order written (see the module's docstring).
MAPPINGS = ("loss.terms",)

CHOICES = {
    "device_target": ("CPU", "GPU", "Ascend"),
    "data.epoch_definition": ("ids", "images"),
    "model.branches": ("shared", "specific"),
    "train.amp_level": ("O0", "O1", "O2"),
    "export.file_format": ("MINDIR", "ONNX"),
    "export.modality": ("visible", "infrared", "both"),
}

# (minimum, maximum); None means unbounded on that side. Lists are checked element-wise.
RANGES = {
    "device_id": (0, None),
    "data.trial": (1, 10),
    "data.height": (8, None),
    "data.width": (8, None),
    "data.batch_ids": (1, None),
    "data.steps_per_epoch": (0, None),
    "data.per_modality": (1, None),
    "data.num_workers": (1, None),
    "data.flip_prob": (0.0, 1.0),
    "data.pad": (0, None),
    "data.random_erasing_prob": (0.0, 1.0),
    "data.channel_exchange_prob": (0.0, 1.0),
    "data.grayscale_prob": (0.0, 1.0),
    "data.intensity_remap_prob": (0.0, 1.0),
    "data.val_ratio": (0.0, 0.5),
    "backbone.frozen_stages": (-1, 4),
    "model.hidden_dims": (1, None),
    "model.z_dim": (1, None),
    "backbone.base_width": (1, None),
    "model.initial_scale": (1e-3, None),
    "loss.terms": (0.0, None),
    "loss.label_smoothing": (0.0, 1.0),
    "loss.rll_margin": (0.0, None),
    "loss.rll_alpha": (0.0, None),
    "loss.rll_temperature": (0.0, None),
    "loss.triplet_margin": (0.0, None),
    "loss.cib_critic_hidden": (1, None),
    "train.epochs": (1, None),
    "train.lr": (0.0, None),
    "train.weight_decay": (0.0, None),
    "train.warmup_epochs": (0, None),
    "train.decay_epochs": (0, None),
    "train.decay_factor": (0.0, 1.0),
    "train.loss_scale": (1.0, None),
    "train.log_interval": (1, None),
    "train.loss_scale_window": (1, None),
    "train.max_nonfinite_steps": (1, None),
    "train.checkpoint_interval": (1, None),
    "train.state_interval": (1, None),
    "train.keep_checkpoints": (1, None),
    "train.val_interval": (1, None),
    "train.gap_interval": (0, None),
    "train.gap_ids": (1, None),
    "eval.trials": (1, 10),
    "eval.batch_size": (1, None),
    "eval.max_rank": (1, None),
    "export.onnx_batch_size": (1, None),
}

_TRUE = ("true", "yes", "on", "1")
_FALSE = ("false", "no", "off", "0")


class ConfigError(AnticipatedError, ValueError):
    """A configuration value or key that is not allowed; the message says why."""


class Config(dict):
    """Nested dict with attribute access: ``cfg.train.lr`` is ``cfg["train"]["lr"]``."""

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name, value):
        self[name] = value

    def to_dict(self):
        return {k: v.to_dict() if isinstance(v, Config) else copy.deepcopy(v) for k, v in self.items()}

    def save(self, path):
        """Write the resolved configuration as YAML (folders created as needed), whole or not at
        all: a failed write (a full disk) leaves no partial file and raises WriteFailedError."""
        content = self.to_dict()

        def write(temporary):
            with open(temporary, "w", encoding="utf-8") as handle:
                yaml.safe_dump(content, handle, sort_keys=False, default_flow_style=None)
        write_atomically(path, write)


def _to_config(value):
    if isinstance(value, dict):
        return Config({k: _to_config(v) for k, v in value.items()})
    return value


def flatten(tree, prefix=""):
    """{dotted key: value} of a nested configuration mapping; a ``MAPPINGS`` key's mapping is one value."""
    flat = {}
    for key, value in tree.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict) and dotted not in MAPPINGS:
            flat.update(flatten(value, dotted + "."))
        else:
            flat[dotted] = value
    return flat


def with_current_options(content, origin):
    """``content`` (a preset's or a saved configuration's nested mapping) with a ``loss`` section
    saved with the retired loss flags read as the options that build the same objective, and a
    SYSU-MM01 ``eval.direction`` saved before the dataset had its own read as it meant
    (``src.retired_directions``).

    Raises ConfigError for a section that names only some of the flags (a hand-written preset):
    what it leaves out cannot be known.
    """
    content = eval_direction_as_now(content)
    loss = content.get("loss")
    retired = retired_loss_keys(loss) if isinstance(loss, dict) else []
    if not retired:
        return content
    if not saved_with_flags(loss):
        verb = "no longer exists" if len(retired) == 1 else "no longer exist"
        raise ConfigError(f"{', '.join('loss.' + key for key in retired)} {verb} ({origin}): {HOW_TO_WRITE}")
    return {**content, "loss": loss_section_from_flags(loss)}


def _read_yaml(path):
    if not os.path.isfile(path):
        raise ConfigError(f"config file not found: {path}")
    with open(path, encoding="utf-8") as handle:
        try:
            content = yaml.safe_load(handle)
        except yaml.YAMLError as error:
            raise ConfigError(f"{path} is not valid YAML: {error}") from None
    if content is None:
        return {}
    if not isinstance(content, dict):
        raise ConfigError(f"{path} must hold a mapping of options, found {type(content).__name__}")
    return content


def _suggest(key, valid_keys):
    """The valid keys closest to an unknown one, by full dotted name and by leaf name."""
    close = difflib.get_close_matches(key, valid_keys, n=3, cutoff=0.5)
    leaf = key.rsplit(".", 1)[-1]
    leaves = {}
    for valid in valid_keys:
        leaves.setdefault(valid.rsplit(".", 1)[-1], []).append(valid)
    for near_leaf in difflib.get_close_matches(leaf, list(leaves), n=3, cutoff=0.6):
        close += [valid for valid in leaves[near_leaf] if valid not in close]
    return close[:4]


def _unknown_key_error(key, valid_keys, origin):
    if key in [f"loss.{retired}" for retired in RETIRED_LOSS_KEYS]:
        return ConfigError(f"'{key}' no longer exists ({origin}): {HOW_TO_WRITE}")
    close = _suggest(key, valid_keys)
    hint = f"; did you mean {', '.join(close)}?" if close else "; see default_config.yaml for the options"
    return ConfigError(f"unknown config key '{key}' ({origin}){hint}")


def _type_name(value):
    return {bool: "a boolean (true/false)", int: "an integer", float: "a number",
            str: "a string", list: "a list", dict: "a mapping"}.get(type(value), type(value).__name__)


def _parse_scalar(key, text, default):
    """Convert a command-line string to the type of ``default``."""
    if isinstance(default, bool):
        lowered = text.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise ConfigError(f"'{key}' must be a boolean (true/false), got '{text}'")
    if isinstance(default, int):
        try:
            return int(text)
        except ValueError:
            raise ConfigError(f"'{key}' must be an integer, got '{text}'") from None
    if isinstance(default, float):
        try:
            return float(text)
        except ValueError:
            raise ConfigError(f"'{key}' must be a number, got '{text}'") from None
    return text


def _yaml_or_none(text):
    """``text`` read as YAML, or None where it is not valid YAML."""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return None


def _parse_cli_value(key, text, default):
    if isinstance(default, dict):
        parsed = _yaml_or_none(text)
        if not isinstance(parsed, dict):
            raise ConfigError(f"'{key}' must be a mapping such as \"{{cls: 1.0, metric: 1.0}}\", got '{text}'")
        return _check_type(key, parsed, default, "on the command line")
    if isinstance(default, list):
        parsed = _yaml_or_none(text)
        if not isinstance(parsed, list):
            parsed = [item.strip() for item in text.strip("[]").split(",") if item.strip()]
        element_default = default[0] if default else None
        if element_default is None:
            return parsed
        return [_parse_scalar(key, str(item), element_default) for item in parsed]
    return _parse_scalar(key, text, default)


def _check_type(key, value, default, origin):
    """Values from YAML files: coerce ints to floats where a float is expected, else insist.
    A mapping's names are strings and its values those of the default's first value, or None."""
    if isinstance(default, dict):
        if not isinstance(value, dict) or not value:
            raise ConfigError(f"'{key}' must be a non-empty mapping, got {value!r} ({origin})")
        element_default = next(iter(default.values()))
        for name in value:
            if not isinstance(name, str):
                raise ConfigError(f"'{key}' must have names (strings) as keys, got {name!r} ({origin})")
        return {name: None if item is None else _check_type(key, item, element_default, origin)
                for name, item in value.items()}
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise ConfigError(f"'{key}' must be {_type_name(default)}, got {value!r} ({origin})")
        return value
    if isinstance(default, float) and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if isinstance(default, float) and isinstance(value, str):
        # YAML 1.1 reads exponents without a dot (1e-4) as strings.
        try:
            return float(value)
        except ValueError:
            pass
    if isinstance(default, list):
        if not isinstance(value, list):
            raise ConfigError(f"'{key}' must be a list, got {value!r} ({origin})")
        if default:
            return [_check_type(key, item, default[0], origin) for item in value]
        return value
    if type(value) is not type(default):
        raise ConfigError(f"'{key}' must be {_type_name(default)}, got {value!r} ({origin})")
    return value


def _override(key, inherited, value, origin):
    """The value of ``key`` once ``value`` overrides ``inherited``: ``value`` itself, except that a
    mapping's names without a value keep their inherited one."""
    if key not in MAPPINGS:
        return value
    orphans = [name for name, item in value.items() if item is None and name not in inherited]
    if orphans:
        raise ConfigError(f"'{key}' gives {', '.join(orphans)} no value and inherits none ({origin}); "
                          f"write it as {orphans[0]}: VALUE")
    return {name: inherited[name] if item is None else item for name, item in value.items()}


def _check_allowed(key, value):
    is_mapping = isinstance(value, dict)
    names = list(value) if is_mapping else value if isinstance(value, list) else [value]
    allowed = CHOICES.get(key) or config_choices(key)
    if allowed is not None:
        for item in names:
            if item in allowed:
                continue
            if is_mapping:
                raise ConfigError(f"'{key}' names {item!r}, which is not registered; registered: "
                                  f"{', '.join(map(str, allowed))}")
            raise ConfigError(f"'{key}' must be one of {', '.join(map(str, allowed))}; got {item!r}")
    if key in RANGES:
        low, high = RANGES[key]
        for name, item in value.items() if is_mapping else [(None, item) for item in names]:
            if (low is not None and item < low) or (high is not None and item > high):
                bounds = f"at least {low}" if high is None else f"between {low} and {high}"
                subject = f"'{key}'" if name is None else f"'{key}' value of {name!r}"
                raise ConfigError(f"{subject} must be {bounds}; got {item!r}")


def _load_preset(path, seen=()):
    """[(dotted key, value, file)] of a preset and of the presets it inherits from (not the
    defaults), in the order they apply: the furthest base first."""
    path = os.path.abspath(path)
    if path in seen:
        raise ConfigError(f"config inheritance loops through {path}")
    content = with_current_options(_read_yaml(path), path)
    base = content.pop("base", None)
    content.pop("config_path", None)  # metadata of a saved resolved config, not an option
    entries = []
    if base:
        base_path = base if os.path.isabs(base) else os.path.join(os.path.dirname(path), base)
        if os.path.abspath(base_path) != DEFAULT_CONFIG_PATH:
            entries += _load_preset(base_path, seen + (path,))
    return entries + [(key, value, path) for key, value in flatten(content).items()]


def _parse_argv(argv):
    """Split argv into the preset path and (key, text) overrides, in order."""
    pairs = []
    index = 0
    while index < len(argv):
        token = argv[index]
        if not token.startswith("--") or token == "--":
            raise ConfigError(f"unexpected argument '{token}': options are written --key value")
        name = token[2:]
        if "=" in name:
            name, text = name.split("=", 1)
            index += 1
        else:
            if index + 1 >= len(argv):
                raise ConfigError(f"option '--{name}' needs a value")
            text = argv[index + 1]
            index += 2
        pairs.append((name, text))
    config_path = None
    overrides = []
    for name, text in pairs:
        if name == "config_path":
            config_path = text
        else:
            overrides.append((name, text))
    return config_path, overrides


def load_config(argv=None, defaults_path=DEFAULT_CONFIG_PATH):
    """Resolve the configuration from the defaults, an optional preset and overrides.

    Args:
        argv: command-line arguments without the program name (default: ``sys.argv[1:]``).
        defaults_path: the YAML holding every option.
    Returns:
        ``Config`` with every option, typed and checked; ``config_path`` records the preset.
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    config_path, overrides = _parse_argv(argv)
    defaults = flatten(_read_yaml(defaults_path))
    valid_keys = sorted(defaults)
    resolved = dict(defaults)

    if config_path:
        for key, value, origin in _load_preset(config_path):
            if key not in defaults:
                raise _unknown_key_error(key, valid_keys, f"in {origin}")
            value = _check_type(key, value, defaults[key], f"in {origin}")
            resolved[key] = _override(key, resolved[key], value, f"in {origin}")

    for key, text in overrides:
        if key not in defaults:
            raise _unknown_key_error(key, valid_keys, "on the command line")
        resolved[key] = _override(key, resolved[key], _parse_cli_value(key, text, defaults[key]), "on the command line")

    for key, value in resolved.items():
        _check_allowed(key, value)

    tree = {}
    for key, value in resolved.items():
        node = tree
        parts = key.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    config = _to_config(tree)
    config["config_path"] = os.path.abspath(config_path) if config_path else ""
    return config


def _documented_options(defaults_path):
    """[(section or "", [(dotted key, default as written, comment)])] in the file's order.

    Read from the YAML text itself, so the help shows each default as written there
    (``2.6e-4``, ``[shared, specific]``) with the comment at the end of its line.
    """
    sections = [("", [])]
    with open(defaults_path, encoding="utf-8") as handle:
        for line in handle:
            match = re.match(r"^(\s*)([A-Za-z_]\w*):\s*(.*)$", line.rstrip())
            if not match:
                continue
            indent, key, rest = match.groups()
            value, _, comment = rest.partition(" #")
            value, comment = value.strip(), comment.strip()
            if not indent and not value:
                sections.append((key, []))
                continue
            section = sections[-1][0] if indent else ""
            target = sections[-1][1] if indent else sections[0][1]
            target.append((f"{section}.{key}" if section else key, value, comment))
    return [(section, options) for section, options in sections if options]


def _allowed_text(key):
    allowed = CHOICES.get(key) or config_choices(key)
    bounds = ""
    if key in RANGES:
        low, high = RANGES[key]
        bounds = f"at least {low}" if high is None else f"{low} to {high}"
    if key in MAPPINGS:
        return "; ".join(filter(None, ["names among: " + ", ".join(map(str, allowed or ())),
                                       bounds and "values " + bounds]))
    if allowed is not None:
        return "one of: " + ", ".join(map(str, allowed))
    return bounds


def help_text(description, prog, extra_options=(), defaults_path=DEFAULT_CONFIG_PATH):
    """The ``--help`` page: usage, ``description`` as written, then every option of the
    defaults file grouped by section, with its default, its allowed values and its comment.

    ``extra_options``: (flag, explanation) pairs of options the entry point adds itself.
    """
    lines = [f"usage: {prog} [--config_path FILE] [--key value ...]", "", description.strip("\n"), "",
             "Options (default_config.yaml; a preset from --config_path, then --key value, later wins):",
             "  -h, --help", "      print this page and exit",
             "  --config_path FILE", "      preset YAML naming only what differs from the defaults"]
    for flag, explanation in extra_options:
        lines += [f"  {flag}", f"      {explanation}"]
    for section, options in _documented_options(defaults_path):
        lines += ["", f"[{section}]" if section else "[top level]"]
        for key, default, comment in options:
            allowed = _allowed_text(key)
            lines.append(f"  --{key} {default}")
            lines.append(f"      {comment}" + (f" ({allowed})" if allowed else ""))
    return "\n".join(lines) + "\n"


def wants_help(argv):
    return "-h" in argv or "--help" in argv


def print_help_if_asked(description, argv=None, extra_options=()):
    """Print the help page and exit 0 when ``argv`` holds -h / --help; otherwise do nothing."""
    argv = sys.argv[1:] if argv is None else argv
    if wants_help(argv):
        sys.stdout.write(help_text(description, os.path.basename(sys.argv[0]) or "python", extra_options))
        sys.exit(0)


def load_config_or_exit(description, argv=None):
    """``load_config`` for entry points: -h prints the help page; a ConfigError prints one
    ``error: ...`` line and exits with status 2."""
    print_help_if_asked(description, argv)
    try:
        return load_config(argv)
    except ConfigError as error:
        print(f"error: {one_line(error)}", file=sys.stderr)
        sys.exit(USAGE_ERROR_STATUS)
