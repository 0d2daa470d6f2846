"""Meta-tests keeping the plugin contract honest: every hook is documented and has a test."""

from pathlib import Path

import pytest

from metarec import hookspecs

ROOT = Path(__file__).resolve().parents[1]
HOOKS = sorted(n for n in dir(hookspecs) if n.startswith("register_"))


def test_there_are_four_hooks():
    assert HOOKS == ["register_commands", "register_learners", "register_metafeatures", "register_metamodels"]


@pytest.mark.parametrize("hook", HOOKS)
def test_plugin_hooks_are_documented(hook):
    assert len((getattr(hookspecs, hook).__doc__ or "").strip()) > 100, f"{hook} has no docstring"
    assert f"### `{hook}(" in (ROOT / "docs" / "plugins.md").read_text(), f"{hook} missing from docs/plugins.md"


@pytest.mark.parametrize("hook", HOOKS)
def test_plugin_hooks_have_tests(hook):
    tests = "".join(p.read_text() for p in (ROOT / "tests").glob("test_*.py") if p.name != "test_docs.py")
    assert f"def {hook}(" in tests, f"no test implements the hook {hook}"
