"""The source index (``src.source_index``) reads, without importing anything, exactly what
importing the package registers: every registry, every part, every option a part owns."""

import importlib
import textwrap

import pytest

from src.options import Options
from src.registry import Registry
from src.source_index import DeclarationError, PACKAGE_ROOT, _python_files, module_name, package_index, read_index


def _import_everything():
    """{module name: module} of every module of the package, imported."""
    return {name: importlib.import_module(name) for name in map(module_name, _python_files(PACKAGE_ROOT))}


def test_what_the_source_declares_is_what_importing_registers():
    modules = _import_everything()
    registries = {value.kind: value for module in modules.values() for value in vars(module).values()
                  if isinstance(value, Registry)}
    option_sets = {name: value for module in modules.values() for name, value in vars(module).items()
                   if isinstance(value, Options)}
    index = package_index()
    assert {kind: registry.config_keys for kind, registry in registries.items()} == index.registries
    for kind, registry in registries.items():
        declared = index.parts[kind]
        # Every part of the package is in the index (parts that other tests register are not).
        of_package = {name for name, part in registry._parts.items() if getattr(part, "__module__", "").startswith("src.")}
        assert set(declared) == of_package, kind
        for name, declaration in declared.items():
            options = registry._options[name]
            assert (list(options) if options else None) == (
                list(index.option_sets[declaration.options][0]) if declaration.options else None), (kind, name)
    assert {name: list(options) for name, options in option_sets.items()} == {
        name: list(options) for name, (options, _) in index.option_sets.items()}
    assert len(index.options()) > 90  # every option of default_config.yaml


def _package(tmp_path, files):
    root = tmp_path / "package"
    root.mkdir(parents=True)
    for name, text in files.items():
        (root / name).write_text(textwrap.dedent(text))
    return str(root)


def test_a_declaration_that_is_not_literal_is_refused(tmp_path):
    root = _package(tmp_path, {"a.py": """
        WIDTHS = (1, 2)
        OPTIONS = Options(Option("model.width", 1, "width", choices=WIDTHS))
    """})
    with pytest.raises(DeclarationError, match=r"a.py:3: .*must be literals; found 'WIDTHS'"):
        read_index(root)


def test_names_defined_twice_and_unknown_registries_are_refused(tmp_path):
    twice = _package(tmp_path / "twice", {"a.py": 'PARTS = Registry("part")\n', "b.py": 'PARTS = Registry("other")\n'})
    with pytest.raises(DeclarationError, match="registry 'PARTS' is defined in both"):
        read_index(twice)
    unknown = _package(tmp_path / "unknown", {"a.py": '@NOWHERE.register("x")\nclass X: pass\n'})
    with pytest.raises(DeclarationError, match="registers 'x' into NOWHERE, which is not a Registry"):
        read_index(unknown)
    same_key = _package(tmp_path / "same_key", {
        "a.py": 'A = Options(Option("train.toy", 1, "toy"))\n', "b.py": 'B = Options(Option("train.toy", 2, "toy"))\n'})
    with pytest.raises(DeclarationError, match="option 'train.toy' is declared in both"):
        read_index(same_key)


def test_parts_registered_by_decorator_or_by_call_with_their_options(tmp_path):
    root = _package(tmp_path, {"parts.py": """
        PARTS = Registry("part", config_keys=("model.part",))
        WIDE = Options(Option("model.width", 4, "wide: its width", minimum=1))

        @PARTS.register("wide", options=WIDE)
        class Wide:
            pass

        PARTS.register("narrow")(object)
    """})
    index = read_index(root)
    assert index.registries == {"part": ("model.part",)}
    assert [(part.name, part.options) for part in index.parts["part"].values()] == [("wide", "WIDE"), ("narrow", None)]
    assert index.options()["model.width"].minimum == 1
