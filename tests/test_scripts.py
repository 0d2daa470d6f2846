"""The repository's scripts (benchmarks/, knowledge_base/) import only names metarec has: a module that moved
must take its callers along, also those outside the package and its tests."""

import ast
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = sorted(p for d in ("benchmarks", "knowledge_base") for p in (ROOT / d).rglob("*.py"))


def _metarec_imports(path: Path) -> list[tuple[int, str, list[str]]]:
    """(line, module, imported names) of every absolute ``metarec`` import in ``path``, at any depth."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and not node.level and (node.module or "").split(".")[0] == "metarec":
            found.append((node.lineno, node.module, [a.name for a in node.names if a.name != "*"]))
        elif isinstance(node, ast.Import):
            found.extend((node.lineno, a.name, []) for a in node.names if a.name.split(".")[0] == "metarec")
    return found


def test_there_are_scripts_to_check():
    assert any(p.parent.name == "knowledge_base" for p in SCRIPTS) and any(p.parent.name == "benchmarks" for p in SCRIPTS)


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_script_imports_resolve(path):
    missing = []
    for line, module, names in _metarec_imports(path):
        try:
            mod = importlib.import_module(module)
        except ImportError as exc:
            missing.append(f"line {line}: {module} ({exc})")
            continue
        for name in names:
            if not hasattr(mod, name):
                try:
                    importlib.import_module(f"{module}.{name}")
                except ImportError:
                    missing.append(f"line {line}: {module}.{name}")
    assert not missing, f"{path.relative_to(ROOT)} imports what metarec does not have:\n  " + "\n  ".join(missing)
