"""The import layers of the package are a contract: every module belongs to one layer, and imports go
down (or stay within a layer), never up, counting the imports inside functions too.

    foundation < data < learners < metafeatures < kb < metamodels < recommend < tuning < cli < testing

The package's ``__init__`` (the public API, importing lazily from every layer) is above them all, and no
module imports it. Built-in plugins are loaded by the plugin host by their module names (the same way as
third-party entry points), which is not an import edge.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "metarec"

#: Layers from the bottom up; a module belongs to the first layer one of whose prefixes it matches.
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("foundation", ("metarec._version", "metarec.exceptions", "metarec.hookspecs", "metarec.metrics", "metarec.records",
                    "metarec.fileio", "metarec.cache", "metarec._parallel", "metarec.registry", "metarec.plugins")),
    ("data", ("metarec.data", "metarec.coltypes")),
    ("learners", ("metarec.learners",)),
    ("metafeatures", ("metarec.metafeatures",)),
    ("kb", ("metarec.kb",)),
    ("metamodels", ("metarec.metamodels",)),
    ("recommend", ("metarec.recommend", "metarec.evaluate")),
    ("tuning", ("metarec.tuning",)),
    ("cli", ("metarec.cli", "metarec.cli_commands", "metarec.cli_evaluate")),
    ("testing", ("metarec.testing",)),
)
RANK = {name: i for i, (name, _) in enumerate(LAYERS)}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def layer_of(module: str) -> str | None:
    for name, prefixes in LAYERS:
        if any(module == p or module.startswith(p + ".") for p in prefixes):
            return name
    return None


def imported_modules(path: Path, module: str | None = None) -> list[tuple[int, str]]:
    """(line, absolute module name) of every metarec import in ``path`` (the module ``module``, by default
    the one at that path), at any depth of the code."""
    module = module or module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            targets = [target]
            if not node.module:  # ``from . import x``: x may be a module of the package
                targets = [f"{target}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        else:
            continue
        found.extend((node.lineno, t) for t in targets if t == "metarec" or t.startswith("metarec."))
    return found


def _resolve(target: str) -> str:
    """The module ``target`` names (``from metarec.x import name`` names module ``metarec.x``)."""
    parts = target.split(".")
    while parts:
        candidate = PACKAGE.parent.joinpath(*parts)
        if candidate.with_suffix(".py").exists() or (candidate / "__init__.py").exists():
            return ".".join(parts)
        parts.pop()
    return target


MODULES = sorted(p for p in PACKAGE.rglob("*.py") if p.name != "__init__.py" or p.parent != PACKAGE)


def test_every_module_has_a_layer():
    unassigned = [module_name(p) for p in MODULES if layer_of(module_name(p)) is None]
    assert not unassigned, f"modules in no layer (add them to LAYERS in {Path(__file__).name}): {unassigned}"


@pytest.mark.parametrize("path", MODULES, ids=module_name)
def test_imports_go_down_the_layers(path):
    module = module_name(path)
    own = layer_of(module)
    up = []
    for line, target in imported_modules(path):
        target = _resolve(target)
        if target == "metarec":
            up.append(f"line {line}: imports the package root (the public API sits above every layer)")
            continue
        theirs = layer_of(target)
        if theirs is not None and own is not None and RANK[theirs] > RANK[own]:
            up.append(f"line {line}: {target} ({theirs}) from the {own} layer")
    assert not up, f"{module} imports up the layers:\n  " + "\n  ".join(up)


def test_the_checker_sees_function_level_and_relative_imports(tmp_path):
    """The contract is only as good as the scan: a back-edge hidden in a function body is found."""
    path = tmp_path / "probe.py"
    path.write_text("import os\n\ndef f():\n    from ..tuning import tune\n    import metarec.cli\n"
                    "    from . import format\n")
    targets = [t for _, t in imported_modules(path, "metarec.kb.probe")]
    assert targets == ["metarec.tuning", "metarec.cli", "metarec.kb.format"]
    assert layer_of("metarec.kb.probe") == "kb" and RANK["tuning"] > RANK["kb"]


@pytest.mark.parametrize("path", MODULES + [PACKAGE / "__init__.py"], ids=module_name)
def test_no_module_is_over_500_lines(path):
    n = len(path.read_text(encoding="utf-8").splitlines())
    assert n <= 500, f"{module_name(path)} has {n} lines: split it along its jobs"
