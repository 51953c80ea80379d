"""Configuration: defaults from ``default_config.yaml``, a preset, command-line overrides.

Resolution order (later wins):
1. ``default_config.yaml`` at the repository root: every option, with its type.
2. ``--config_path FILE``: a preset naming only what differs. A preset may say
   ``base: OTHER.yaml`` (relative to the preset's folder) to inherit from another preset;
   chains end at the defaults.
3. ``--key value`` / ``--section.key value`` (or ``--key=value``) on the command line.

Every value is checked against the default's type and against its declaration
(``src.options``), which the module that reads the option holds; a part's options are checked
only when the part is selected. Keys whose values name registered parts (``src.registry``) take
their choices from the registry. ``imports`` names modules of the user's own parts, imported
before anything is checked. Errors are ``ConfigError`` with a message naming the key and what is
allowed. Loading a configuration does not import MindSpore (``src.source_index``).

A few keys hold a mapping (``MAPPINGS``, e.g. ``loss.terms``: term name -> weight), kept in the
order written. A preset or the command line replaces such a mapping whole; a name written
without a value (``{cls, metric, dml: 1.0}``) keeps the value it had in the configuration being
overridden (the preset inherited from, else the defaults). A file saved with options that no
longer exist is read as it meant (``src.retired_options``).
"""

import copy
import difflib
import importlib.util
import os
import re
import sys

import yaml

from src.errors import USAGE_ERROR_STATUS, AnticipatedError, one_line
from src.options import Option, Options
from src.registry import config_choices, declared_options, owned_options
from src.retired_directions import eval_direction_as_now
from src.retired_options import (HOW_TO_WRITE, RETIRED_LOSS_KEYS, loss_section_from_flags, retired_loss_keys,
                                 saved_with_flags)
from src.utils.safe_write import write_atomically

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_CONFIG_PATH = os.path.join(REPO_ROOT, "default_config.yaml")

# Keys whose value is a mapping, in the order written (see the module's docstring).
MAPPINGS = ("loss.terms",)

CONFIG_OPTIONS = Options(
    Option("imports", [], "modules of your own parts, imported before the configuration is checked: "
           "module names (found from the current folder too) or paths of .py files"),
)

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
    model = content.get("model")
    branches = model.get("branches") if isinstance(model, dict) and "branches" in model else ("shared", "specific")
    return {**content, "loss": loss_section_from_flags(loss, branches)}


def saved_as_today(content, origin):
    """A resolved configuration a run saved (its nested mapping), read as it meant when saved:
    options retired since translated (``with_current_options``), options added since at their
    defaults, which keep what the code did before they existed (``imports``: none)."""
    def with_defaults(saved, defaults, prefix=""):
        merged = dict(saved)
        for key, value in defaults.items():
            if key not in merged:
                merged[key] = copy.deepcopy(value)
            elif isinstance(value, dict) and isinstance(merged[key], dict) and prefix + key not in MAPPINGS:
                merged[key] = with_defaults(merged[key], value, f"{prefix}{key}.")
        return merged
    return with_defaults(with_current_options(content, origin), _read_yaml(DEFAULT_CONFIG_PATH))


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


def _selected_parts_own(resolved):
    """{option key: whether a part that owns it is selected} for the options that parts own."""
    owners = {}
    for config_keys, name, options in owned_options():
        selected = False
        for key in config_keys:
            value = resolved.get(key)
            selected = selected or value == name or (isinstance(value, (list, dict)) and name in value)
        for option in options:
            owners[option.key] = owners.get(option.key, False) or selected
    return owners


def _check_allowed(key, value, option):
    """Raise ConfigError if ``value`` names an unregistered part or is not what ``option`` allows."""
    allowed = config_choices(key)
    if allowed is not None:
        is_mapping = isinstance(value, dict)
        for name in value if isinstance(value, (list, dict)) else [value]:
            if name in allowed:
                continue
            if is_mapping:
                raise ConfigError(f"'{key}' names {name!r}, which is not registered; registered: "
                                  f"{', '.join(map(str, allowed))}")
            raise ConfigError(f"'{key}' must be one of {', '.join(map(str, allowed))}; got {name!r}")
    problem = option.problem(value) if option is not None else None
    if problem:
        raise ConfigError(f"'{key}' {problem}")


def _import_one(entry):
    """Import the module ``entry`` names (a dotted name, or a path ending in .py), once per process."""
    if entry.endswith(".py") or os.sep in entry:
        path = os.path.abspath(entry)
        if not os.path.isfile(path):
            raise ConfigError(f"'imports' names {entry!r}, which is not a file")
        name = "imported_" + re.sub(r"\W", "_", os.path.splitext(path)[0].lstrip(os.sep))
        if name not in sys.modules:
            spec = importlib.util.spec_from_file_location(name, path)
            module = importlib.util.module_from_spec(spec)
            sys.modules[name] = module
            try:
                spec.loader.exec_module(module)
            except BaseException:
                del sys.modules[name]
                raise
        return
    if os.getcwd() not in sys.path:
        sys.path.append(os.getcwd())
    try:
        importlib.import_module(entry)
    except ModuleNotFoundError as error:
        if error.name is None or not entry.startswith(error.name):
            raise
        raise ConfigError(f"'imports' names {entry!r}, which cannot be imported: {error} (give a module name "
                          f"found from the current folder or sys.path, or a path to a .py file)") from None


def import_user_parts(entries, origin):
    """Import the modules of ``imports`` (their parts register themselves), in order.

    Returns the entries with .py paths made absolute, so that a saved configuration imports the
    same files from any folder. Raises ConfigError for an entry that is not a string or cannot be
    found; an error inside a module propagates as it is (its traceback is the useful part).
    """
    resolved = []
    for entry in entries:
        if not isinstance(entry, str) or not entry:
            raise ConfigError(f"'imports' must list module names or .py paths, got {entry!r} ({origin})")
        _import_one(entry)
        resolved.append(os.path.abspath(entry) if entry.endswith(".py") or os.sep in entry else entry)
    return resolved


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
    preset = _load_preset(config_path) if config_path else []

    # The user's parts first: they may add part names and options of their own.
    imports, imports_origin = defaults.get("imports", []), "in the defaults"
    for key, value, origin in preset:
        if key == "imports":
            imports, imports_origin = _check_type(key, value, [], f"in {origin}"), f"in {origin}"
    for key, text in overrides:
        if key == "imports":
            imports, imports_origin = _parse_cli_value(key, text, []), "on the command line"
    imports = import_user_parts(imports, imports_origin)
    options = declared_options()
    for key, option in options.items():
        defaults.setdefault(key, option.default)

    valid_keys = sorted(defaults)
    resolved = dict(defaults)
    for key, value, origin in preset:
        if key not in defaults:
            raise _unknown_key_error(key, valid_keys, f"in {origin}")
        value = _check_type(key, value, defaults[key], f"in {origin}")
        resolved[key] = _override(key, resolved[key], value, f"in {origin}")
    for key, text in overrides:
        if key not in defaults:
            raise _unknown_key_error(key, valid_keys, "on the command line")
        resolved[key] = _override(key, resolved[key], _parse_cli_value(key, text, defaults[key]), "on the command line")
    resolved["imports"] = imports

    # A part's options are checked only when the part is selected.
    owned_and_selected = _selected_parts_own(resolved)
    for key, value in resolved.items():
        if owned_and_selected.get(key, True):
            _check_allowed(key, value, options.get(key))

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


def _allowed_text(key, option):
    allowed = config_choices(key)
    bounds = option.allowed_text() if option is not None and option.choices is None else ""
    if key in MAPPINGS:
        return "; ".join(filter(None, ["names among: " + ", ".join(map(str, allowed or ())),
                                       bounds and "values " + bounds]))
    if allowed is not None:
        return "one of: " + ", ".join(map(str, allowed))
    return option.allowed_text() if option is not None else ""


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
    declared = declared_options()
    documented = _documented_options(defaults_path)
    written = {key for _, options in documented for key, _, _ in options}
    imported = [(key, yaml.safe_dump(option.default, default_flow_style=True).strip().removesuffix("\n..."), "")
                for key, option in declared.items() if key not in written]
    for section, options in documented + ([("options of the imported parts", imported)] if imported else []):
        lines += ["", f"[{section}]" if section else "[top level]"]
        for key, default, _ in options:
            option = declared.get(key)
            comment = option.comment if option is not None else ""
            allowed = _allowed_text(key, option)
            lines.append(f"  --{key} {default}")
            lines.append(f"      {comment}" + (f" ({allowed})" if allowed else ""))
    return "\n".join(lines) + "\n"


def wants_help(argv):
    return "-h" in argv or "--help" in argv


def print_help_if_asked(description, argv=None, extra_options=()):
    """Print the help page and exit 0 when ``argv`` holds -h / --help; otherwise do nothing.
    The page lists the options of the parts that ``--imports`` in ``argv`` names, too."""
    argv = sys.argv[1:] if argv is None else argv
    if wants_help(argv):
        for position, token in enumerate(argv[:-1]):
            if token == "--imports":
                try:
                    import_user_parts(_parse_cli_value("imports", argv[position + 1], []), "on the command line")
                except ConfigError as error:
                    print(f"error: {one_line(error)}", file=sys.stderr)
                    sys.exit(USAGE_ERROR_STATUS)
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
