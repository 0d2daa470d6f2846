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
    tests = "".join(p.read_text() for p in (ROOT / "tests").rglob("test_*.py") if p.name != "test_docs.py")
    assert f"def {hook}(" in tests, f"no test implements the hook {hook}"


def test_conformance_checks_are_documented():
    from metarec import testing

    doc = (ROOT / "docs" / "plugins.md").read_text()
    missing = [name for name in testing.__all__ if f"`{name}(" not in doc]
    assert not missing, f"metarec.testing functions not documented in docs/plugins.md: {missing}"


EXAMPLE_PLUGINS = sorted(p for p in (ROOT / "plugins").iterdir() if p.is_dir() and p.name.startswith("metarec-"))


def test_there_are_example_plugins_for_the_three_registries():
    assert {p.name for p in EXAMPLE_PLUGINS} >= {"metarec-xgboost", "metarec-pymfe", "metarec-lambdarank"}
    hooks = set()
    for plugin in EXAMPLE_PLUGINS:
        hooks |= {h for h in HOOKS if any(f"def {h}(" in f.read_text() for f in plugin.rglob("metarec_*/*.py"))}
    assert hooks >= {"register_learners", "register_metafeatures", "register_metamodels"}


@pytest.mark.parametrize("plugin", EXAMPLE_PLUGINS, ids=lambda p: p.name)
def test_example_plugin_is_a_complete_distribution(plugin):
    import tomllib

    meta = tomllib.loads((plugin / "pyproject.toml").read_text())["project"]
    thing = plugin.name[len("metarec-"):]
    module = "metarec_" + thing.replace("-", "_")
    assert meta["name"] == plugin.name
    assert meta["entry-points"]["metarec"] == {thing: module}, "entry point <thing> = metarec_<thing> in group metarec"
    assert (plugin / module / "__init__.py").is_file()
    assert (plugin / "README.md").is_file() and "pip install -e plugins/" + plugin.name in (plugin / "README.md").read_text()
    tests = "".join(t.read_text() for t in (plugin / "tests").glob("test_*.py"))
    assert "from metarec.testing import" in tests and "check_" in tests, "the plugin's tests run the conformance suite"
    assert f"plugins/{plugin.name}" in (ROOT / "docs" / "plugins.md").read_text()
