"""Named parts (datasets, backbones, loss terms, ranking rules, ...), each declared once where it is defined.

A part registers itself with a decorator in its own file, with the options it reads::

    DATASETS = Registry("dataset", config_keys=("data.dataset",))

    @DATASETS.register("sysu", options=SYSU_OPTIONS)
    class SYSUMM01: ...

A registry created with ``config_keys`` supplies the allowed values of those configuration keys,
and a part's options (``src.options``) are checked when one of those keys selects it.

The built-in parts are found in the source (``src.source_index``): asking a registry for a part
imports the one module that defines it, and asking for the names imports nothing, so that the
configuration is checked without loading MindSpore. Parts defined outside the package register
by being imported (the configuration's ``imports``), and are then listed after the built-in ones.
"""

import importlib

from src.source_index import package_index

_BY_CONFIG_KEY = {}
_REGISTRIES = []


class UnknownPartError(KeyError):
    """A name that no part of this kind registered."""

    def __str__(self):
        return str(self.args[0])


class Registry:
    """Parts of one kind by name: the package's own in source order, then any registered at run time."""

    def __init__(self, kind, config_keys=()):
        self.kind = kind
        self.config_keys = tuple(config_keys)
        self._parts = {}
        self._options = {}
        for key in self.config_keys:
            if key in _BY_CONFIG_KEY:
                raise ValueError(f"configuration key {key!r} already takes its values from the "
                                 f"{_BY_CONFIG_KEY[key].kind} registry")
            _BY_CONFIG_KEY[key] = self
        _REGISTRIES.append(self)

    def register(self, name, options=None):
        """Decorator: declares the decorated class or function as the part ``name``, owning the
        configuration ``options`` (an ``Options``, checked only when the part is selected)."""
        def declare(part):
            if name in self._parts and self._parts[name] is not part:
                raise ValueError(f"{self.kind} {name!r} is already registered ({self._parts[name]!r})")
            self._parts[name] = part
            self._options[name] = options
            return part
        return declare

    def unregister(self, name):
        """Removes part ``name`` (tests that register a toy part clean up with this)."""
        self._parts.pop(name)
        self._options.pop(name)

    def _declared(self):
        return package_index().parts.get(self.kind, {})

    def get(self, name):
        """The part ``name``, importing the package module that defines it if need be."""
        if name not in self._parts and name in self._declared():
            importlib.import_module(self._declared()[name].module)
        if name not in self._parts:
            raise UnknownPartError(f"unknown {self.kind} {name!r}; registered: {', '.join(map(str, self.names()))}")
        return self._parts[name]

    def names(self):
        declared = tuple(self._declared())
        return declared + tuple(name for name in self._parts if name not in declared)

    def __contains__(self, name):
        return name in self._parts or name in self._declared()

    def runtime_options(self):
        """{name: Options} of the parts registered at run time that the package does not declare."""
        return {name: options for name, options in self._options.items()
                if options is not None and name not in self._declared()}


def config_choices(key):
    """Allowed values of configuration ``key`` if a registry supplies them, else None."""
    if key in _BY_CONFIG_KEY:
        return _BY_CONFIG_KEY[key].names()
    index = package_index()
    for kind, config_keys in index.registries.items():
        if key in config_keys:
            return tuple(index.parts[kind])
    return None


def owned_options():
    """[(config keys that select the part, part name, its Options)] for every part owning options:
    the package's (from the source) and those registered at run time."""
    index = package_index()
    owned = []
    for kind, parts in index.parts.items():
        for name, declaration in parts.items():
            if declaration.options is not None:
                owned.append((index.registries[kind], name, index.option_sets[declaration.options][0]))
    for registry in _REGISTRIES:
        owned += [(registry.config_keys, name, options) for name, options in registry.runtime_options().items()]
    return owned


def declared_options():
    """{key: Option} of every option declared in the package or by a part registered at run time."""
    options = package_index().options()
    for _, _, part_options in owned_options():
        for option in part_options:
            options.setdefault(option.key, option)
    return options
