"""What the package's source declares, read from its text without importing it.

The configuration needs the names of the registered parts (the allowed values of
``data.dataset``, ``backbone.name``, ``loss.terms`` ...) and every option's declaration. Importing
the modules that hold them would load MindSpore, since the parts are cells; so this module
parses them (``ast``) and reads three kinds of module-level statement, written with literals:

* ``NAME = Registry("kind", config_keys=(...))``: a registry;
* ``NAME = Options(Option(...), ...)``: option declarations (``src.options``);
* ``@NAME.register("part", options=OPTIONS_NAME)`` on a class or function, or the statement
  ``NAME.register("part")(value)``: a registered part, and the options it owns.

Registry and option-set names are global across the package (each is defined once), which
is how a module refers to one defined in another. Every ``.py`` file under ``src/`` is read, in
sorted path order, so a new part is one new file and no list to edit. ``tests/test_source_index.py``
checks that what is read here is what importing the modules registers.
"""

import ast
import dataclasses
import functools
import os

from src.options import Option, Options

PACKAGE_ROOT = os.path.dirname(os.path.abspath(__file__))


class DeclarationError(SyntaxError):
    """A declaration the index cannot read (not written with literals, or defined twice)."""


@dataclasses.dataclass(frozen=True)
class PartDeclaration:
    """Part ``name`` of registry ``kind``, registered in ``module``, owning ``options`` (a name or None)."""

    kind: str
    name: str
    module: str
    options: str = None


@dataclasses.dataclass
class SourceIndex:
    """``registries``: {kind: config keys}; ``parts``: {kind: {name: PartDeclaration}} in source
    order; ``option_sets``: {name: (Options, module)}."""

    registries: dict
    parts: dict
    option_sets: dict

    def options(self):
        """Every declared ``Option``, by key."""
        return {option.key: option for options, _ in self.option_sets.values() for option in options}


def module_name(path, root=PACKAGE_ROOT):
    """Dotted module name of ``path`` (a .py file under ``root``, the ``src`` package)."""
    relative = os.path.relpath(os.path.splitext(path)[0], os.path.dirname(root))
    parts = relative.split(os.sep)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _literal(node, where):
    try:
        return ast.literal_eval(node)
    except ValueError:
        raise DeclarationError(f"{where}: declarations are read from the source, so they must be "
                               f"literals; found {ast.unparse(node)!r}") from None


def _called(node, name):
    """Whether ``node`` is a call of the plain name ``name``."""
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == name


def _evaluate_options(call, where):
    options = []
    for argument in call.args:
        if not _called(argument, "Option"):
            raise DeclarationError(f"{where}: Options(...) takes Option(...) values; found {ast.unparse(argument)!r}")
        positional = [_literal(node, where) for node in argument.args]
        keywords = {keyword.arg: _literal(keyword.value, where) for keyword in argument.keywords}
        options.append(Option(*positional, **keywords))
    try:
        return Options(*options)
    except ValueError as error:
        raise DeclarationError(f"{where}: {error}") from None


def _registration(call):
    """(registry name, part name, options name or None) when ``call`` is ``NAME.register("part", ...)``."""
    function = call.func
    if not (isinstance(function, ast.Attribute) and function.attr == "register"
            and isinstance(function.value, ast.Name) and call.args and isinstance(call.args[0], ast.Constant)):
        return None
    options = None
    for keyword in call.keywords:
        if keyword.arg == "options":
            if not isinstance(keyword.value, ast.Name):
                raise DeclarationError(f"register(..., options=...) must name a module-level Options; "
                                       f"found {ast.unparse(keyword.value)!r}")
            options = keyword.value.id
    return function.value.id, call.args[0].value, options


def _read_module(path):
    """(registries, registrations, option sets) declared at the top level of the file ``path``."""
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    if not any(marker in text for marker in ("Registry(", ".register(", "Options(")):
        return {}, [], {}
    module = module_name(path)
    registries, registrations, option_sets = {}, [], {}
    for statement in ast.parse(text, filename=path).body:
        where = f"{path}:{statement.lineno}"
        calls = []
        if isinstance(statement, (ast.ClassDef, ast.FunctionDef)):
            calls = [node for node in statement.decorator_list if isinstance(node, ast.Call)]
        elif isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call):
            calls = [statement.value.func] if isinstance(statement.value.func, ast.Call) else []
        elif isinstance(statement, ast.Assign) and len(statement.targets) == 1 \
                and isinstance(statement.targets[0], ast.Name):
            target, value = statement.targets[0].id, statement.value
            if _called(value, "Registry"):
                kind = _literal(value.args[0], where)
                keywords = {keyword.arg: _literal(keyword.value, where) for keyword in value.keywords}
                registries[target] = (kind, tuple(keywords.get("config_keys", ())), module)
            elif _called(value, "Options"):
                option_sets[target] = (_evaluate_options(value, where), module)
        for call in calls:
            registration = _registration(call)
            if registration is not None:
                registrations.append(registration + (module,))
    return registries, registrations, option_sets


def _merge_unique(into, found, what):
    for name, value in found.items():
        if name in into:
            raise DeclarationError(f"{what} {name!r} is defined in both {into[name][-1]} and {value[-1]}")
        into[name] = value


def _python_files(root):
    for folder, subfolders, files in os.walk(root):
        subfolders[:] = sorted(name for name in subfolders if name != "__pycache__")
        for name in sorted(files):
            if name.endswith(".py"):
                yield os.path.join(folder, name)


def read_index(root=PACKAGE_ROOT):
    """The ``SourceIndex`` of the package at ``root``. Raises DeclarationError for a declaration
    that is not written with literals, a registry or option set defined twice, a part registered
    into an unknown registry or with unknown options, and an option key declared twice."""
    registries, registrations, option_sets = {}, [], {}
    for path in _python_files(root):
        found_registries, found_registrations, found_options = _read_module(path)
        _merge_unique(registries, found_registries, "registry")
        _merge_unique(option_sets, found_options, "option set")
        registrations += found_registrations
    parts = {}
    for kind, _, module in registries.values():
        if kind in parts:
            raise DeclarationError(f"two registries of {root} are of kind {kind!r} (one in {module})")
        parts[kind] = {}
    for registry, name, options, module in registrations:
        if registry not in registries:
            raise DeclarationError(f"{module} registers {name!r} into {registry}, which is not a Registry of {root}")
        if options is not None and options not in option_sets:
            raise DeclarationError(f"{module} registers {name!r} with options {options}, which is not an Options "
                                   f"of {root}")
        kind = registries[registry][0]
        parts[kind][name] = PartDeclaration(kind, name, module, options)
    seen = {}
    for options, module in option_sets.values():
        for option in options:
            if option.key in seen:
                raise DeclarationError(f"option {option.key!r} is declared in both {seen[option.key]} and {module}")
            seen[option.key] = module
    return SourceIndex(registries={kind: keys for kind, keys, _ in registries.values()}, parts=parts,
                       option_sets=option_sets)


@functools.lru_cache(maxsize=None)
def package_index():
    """The ``SourceIndex`` of the ``src`` package (read once per process)."""
    return read_index()
