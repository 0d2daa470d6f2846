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


# --- the user documents: README, docs/, the knowledge base's and the example plugins' READMEs -------------

USER_DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), ROOT / "knowledge_base" / "README.md",
             *sorted(ROOT.glob("plugins/*/README.md"))]
BENCHMARK_FILES = sorted(p for p in (ROOT / "benchmarks").rglob("*") if p.is_file() and p.stat().st_size < 5_000_000)


def _rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


@pytest.mark.parametrize("doc", USER_DOCS + BENCHMARK_FILES, ids=_rel)
def test_documents_speak_about_the_product_not_its_development(doc):
    import re

    text = doc.read_text(errors="replace")
    hits = [m.group(0) for m in re.finditer(r"(?i)session|issue [0-9]|issue's|round [0-9]|review", text)]
    assert not hits, f"{_rel(doc)}: words about how the project is developed: {hits}"


@pytest.mark.parametrize("doc", USER_DOCS, ids=_rel)
def test_relative_links_resolve(doc):
    import re

    text = doc.read_text()
    broken = []
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"[a-z]+:", target):  # https:, mailto:
            continue
        path, _, anchor = target.partition("#")
        dest = (doc.parent / path).resolve() if path else doc
        if ROOT not in dest.parents and dest != ROOT:
            broken.append(f"{target} (outside the repository)")
        elif not dest.exists():
            broken.append(f"{target} (no such file)")
        elif anchor and dest.suffix == ".md":
            headings = {re.sub(r"[^\w\- ]", "", h).strip().lower().replace(" ", "-")
                        for h in re.findall(r"^#+ (.+)$", dest.read_text(), re.MULTILINE)}
            if anchor not in headings:
                broken.append(f"{target} (no heading #{anchor})")
    assert not broken, f"{_rel(doc)}: broken links: {broken}"


@pytest.mark.parametrize("doc", USER_DOCS, ids=_rel)
def test_named_repository_files_exist(doc):
    import re

    # in backquotes: a file the reader is told about (a layout sketch in a code block is not one)
    top = "metarec|tests|benchmarks|plugins|knowledge_base|examples|docs"
    named = set(re.findall(rf"`((?:{top})/[\w./-]+\.(?:py|md|csv|txt|png|json|toml))", doc.read_text()))
    missing = sorted(n for n in named if not (ROOT / n).exists() and not (doc.parent / n).exists())
    assert not missing, f"{_rel(doc)} names files that do not exist: {missing}"


@pytest.mark.parametrize("doc", USER_DOCS, ids=_rel)
def test_named_python_objects_exist(doc):
    """`metarec.x.y` in a document names a module or an attribute that exists (catches moved names)."""
    import importlib
    import re

    missing = []
    for ref in sorted(set(re.findall(r"`(metarec(?:\.\w+)+)", doc.read_text()))):
        parts = ref.split(".")
        for i in range(len(parts), 0, -1):
            try:
                obj = importlib.import_module(".".join(parts[:i]))
            except ImportError:
                continue
            try:
                for attr in parts[i:]:
                    obj = getattr(obj, attr)
            except AttributeError:
                missing.append(ref)
            break
        else:
            missing.append(ref)
    assert not missing, f"{_rel(doc)} names Python objects that do not exist: {missing}"


@pytest.mark.parametrize("doc", USER_DOCS, ids=_rel)
def test_python_blocks_compile(doc):
    import re

    for code in re.findall(r"^```python\n(.*?)^```", doc.read_text(), re.MULTILINE | re.DOTALL):
        compile(code, str(doc), "exec")
