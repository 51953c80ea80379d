"""Named parts (datasets, backbones, loss terms, ranking rules), each declared once where it is defined.

A part registers itself with a decorator in its own file::

    DATASETS = Registry("dataset", config_keys=("data.dataset",))

    @DATASETS.register("sysu")
    class SYSUMM01: ...

A registry created with ``config_keys`` supplies the allowed values of those configuration keys,
so ``src.config`` never repeats the names. Parts register when their module is imported:
``PART_MODULES`` lists the modules that hold the built-in parts; user parts register by
being imported (or defined) before the configuration is checked. A registry outside the
training parts (the synthetic-data styles and layouts) names its own ``builtin_modules``, so
that looking up one of its parts imports those alone, not the network and its losses.
"""

import importlib

# Modules whose import registers the built-in parts (imported once, when a configured name
# is first checked or looked up).
PART_MODULES = ("src.datasets", "src.evaluation", "src.models", "src.losses")

_BY_CONFIG_KEY = {}
_builtins_loaded = False


class UnknownPartError(KeyError):
    """A name that no part of this kind registered."""

    def __str__(self):
        return str(self.args[0])


class Registry:
    """Parts of one kind by name, in registration order."""

    def __init__(self, kind, config_keys=(), builtin_modules=None):
        """``builtin_modules``: modules whose import registers this kind's built-in parts
        (None: ``PART_MODULES``)."""
        self.kind = kind
        self.config_keys = tuple(config_keys)
        self.builtin_modules = None if builtin_modules is None else tuple(builtin_modules)
        self._parts = {}
        for key in self.config_keys:
            if key in _BY_CONFIG_KEY:
                raise ValueError(f"configuration key {key!r} already takes its values from the "
                                 f"{_BY_CONFIG_KEY[key].kind} registry")
            _BY_CONFIG_KEY[key] = self

    def register(self, name):
        """Decorator: declares the decorated class or function as the part ``name``."""
        def declare(part):
            if name in self._parts and self._parts[name] is not part:
                raise ValueError(f"{self.kind} {name!r} is already registered ({self._parts[name]!r})")
            self._parts[name] = part
            return part
        return declare

    def unregister(self, name):
        """Removes part ``name`` (tests that register a toy part clean up with this)."""
        self._parts.pop(name)

    def _load_builtin_parts(self):
        if self.builtin_modules is None:
            _load_builtins()
        else:
            for module in self.builtin_modules:
                importlib.import_module(module)

    def get(self, name):
        self._load_builtin_parts()
        if name not in self._parts:
            raise UnknownPartError(f"unknown {self.kind} {name!r}; registered: {', '.join(map(str, self.names()))}")
        return self._parts[name]

    def names(self):
        self._load_builtin_parts()
        return tuple(self._parts)

    def __contains__(self, name):
        self._load_builtin_parts()
        return name in self._parts


def fixed_choices(kind, values, config_keys):
    """Declares ``values`` as the allowed values of ``config_keys`` and returns them as a tuple.

    For a module's own closed set of options (not parts anyone adds to), so that the module's
    constant is the only place the values are written, as a registry's names are for parts.
    """
    registry = Registry(kind, config_keys)
    for value in values:
        registry.register(value)(value)
    return tuple(values)


def _load_builtins():
    global _builtins_loaded
    if not _builtins_loaded:
        _builtins_loaded = True
        for module in PART_MODULES:
            importlib.import_module(module)


def config_choices(key):
    """Allowed values of configuration ``key`` if a registry supplies them, else None."""
    _load_builtins()
    registry = _BY_CONFIG_KEY.get(key)
    return None if registry is None else registry.names()
