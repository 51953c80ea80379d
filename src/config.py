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
"""

import copy
import difflib
import os
import re
import sys

import yaml

from src.errors import USAGE_ERROR_STATUS, AnticipatedError, one_line
from src.registry import config_choices
from src.utils.safe_write import write_atomically

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_CONFIG_PATH = os.path.join(REPO_ROOT, "default_config.yaml")

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
    "loss.label_smoothing": (0.0, 1.0),
    "loss.metric_weight": (0.0, None),
    "loss.rll_margin": (0.0, None),
    "loss.rll_alpha": (0.0, None),
    "loss.rll_temperature": (0.0, None),
    "loss.triplet_margin": (0.0, None),
    "loss.dml_weight": (0.0, None),
    "loss.beta": (0.0, None),
    "loss.cib_critic_hidden": (1, None),
    "loss.cib_weight": (0.0, None),
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


def _flatten(tree, prefix=""):
    flat = {}
    for key, value in tree.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, dotted + "."))
        else:
            flat[dotted] = value
    return flat


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
    close = _suggest(key, valid_keys)
    hint = f"; did you mean {', '.join(close)}?" if close else "; see default_config.yaml for the options"
    return ConfigError(f"unknown config key '{key}' ({origin}){hint}")


def _type_name(value):
    return {bool: "a boolean (true/false)", int: "an integer", float: "a number",
            str: "a string", list: "a list"}.get(type(value), type(value).__name__)


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


def _parse_cli_value(key, text, default):
    if isinstance(default, list):
        try:
            parsed = yaml.safe_load(text)
        except yaml.YAMLError:
            parsed = None
        if not isinstance(parsed, list):
            parsed = [item.strip() for item in text.strip("[]").split(",") if item.strip()]
        element_default = default[0] if default else None
        if element_default is None:
            return parsed
        return [_parse_scalar(key, str(item), element_default) for item in parsed]
    return _parse_scalar(key, text, default)


def _check_type(key, value, default, origin):
    """Values from YAML files: coerce ints to floats where a float is expected, else insist."""
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


def _check_allowed(key, value):
    items = value if isinstance(value, list) else [value]
    allowed = CHOICES.get(key) or config_choices(key)
    if allowed is not None:
        for item in items:
            if item not in allowed:
                raise ConfigError(f"'{key}' must be one of {', '.join(map(str, allowed))}; got {item!r}")
    if key in RANGES:
        low, high = RANGES[key]
        for item in items:
            if (low is not None and item < low) or (high is not None and item > high):
                bounds = f"at least {low}" if high is None else f"between {low} and {high}"
                raise ConfigError(f"'{key}' must be {bounds}; got {item!r}")


def _load_preset(path, seen=()):
    """Flattened values of a preset and of the presets it inherits from (not the defaults)."""
    path = os.path.abspath(path)
    if path in seen:
        raise ConfigError(f"config inheritance loops through {path}")
    content = _read_yaml(path)
    base = content.pop("base", None)
    content.pop("config_path", None)  # metadata of a saved resolved config, not an option
    flat = {}
    if base:
        base_path = base if os.path.isabs(base) else os.path.join(os.path.dirname(path), base)
        if os.path.abspath(base_path) != DEFAULT_CONFIG_PATH:
            flat.update(_load_preset(base_path, seen + (path,)))
    flat.update({key: (value, path) for key, value in _flatten(content).items()})
    return flat


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
    defaults = _flatten(_read_yaml(defaults_path))
    valid_keys = sorted(defaults)
    resolved = dict(defaults)

    if config_path:
        for key, (value, origin) in _load_preset(config_path).items():
            if key not in defaults:
                raise _unknown_key_error(key, valid_keys, f"in {origin}")
            resolved[key] = _check_type(key, value, defaults[key], f"in {origin}")

    for key, text in overrides:
        if key not in defaults:
            raise _unknown_key_error(key, valid_keys, "on the command line")
        resolved[key] = _parse_cli_value(key, text, defaults[key])

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
    if allowed is not None:
        return "one of: " + ", ".join(map(str, allowed))
    if key in RANGES:
        low, high = RANGES[key]
        return f"at least {low}" if high is None else f"{low} to {high}"
    return ""


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
