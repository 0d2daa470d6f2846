"""The plugin platform: built-ins as plugins, entry points, broken plugins, clashes, switches."""

import contextlib
import json
import sys
import types
from importlib.metadata import EntryPoint

import pytest
from click.testing import CliRunner

from metarec import hookimpl
from metarec.exceptions import PluginError
from metarec.learners import Learner
from metarec.plugins import DEFAULT_PLUGINS, PluginHost
from metarec.registry import Registry


def _learner(name):
    return Learner(
        name=name,
        task_types=("classification",),
        estimator=lambda cfg, rs: None,
        search_space=lambda trial: {},
        description="test",
    )


def _plugin(name, learners=(), raise_in_hook=False):
    mod = types.ModuleType(name)

    @hookimpl
    def register_learners(register):
        if raise_in_hook:
            raise RuntimeError("boom in hook")
        for lr in learners:
            register(_learner(lr))

    mod.register_learners = register_learners
    return mod


def _fake_entry_points(monkeypatch, tmp_path, plugins: dict[str, str]):
    """Install modules ``{module_name: source}`` on sys.path and expose them as entry points."""
    eps = []
    for modname, source in plugins.items():
        (tmp_path / f"{modname}.py").write_text(source)
        eps.append(EntryPoint(name=modname.removeprefix("metarec_"), value=modname, group="metarec"))
    monkeypatch.syspath_prepend(str(tmp_path))
    for modname in plugins:
        sys.modules.pop(modname, None)

    def entry_points(group=None, **kw):
        return [ep for ep in eps if group in (None, ep.group)]

    monkeypatch.setattr("importlib.metadata.entry_points", entry_points)


GOOD = '''
from metarec import hookimpl
from metarec.learners import Learner

@hookimpl
def register_learners(register):
    register(Learner(name="good_one", task_types=("classification",), estimator=lambda c, r: None,
                     search_space=lambda t: {}, description="from a plugin"))
'''
BROKEN_IMPORT = "import this_module_does_not_exist_anywhere\n"
RAISES = '''
from metarec import hookimpl

@hookimpl
def register_learners(register):
    raise ValueError("plugin bug")
'''


def test_builtins_register_through_the_same_hooks():
    host = PluginHost(autoload=False)
    names = {i.name for i in host.infos.values() if i.builtin}
    assert set(DEFAULT_PLUGINS) == names
    reg = host.registry("learner")
    assert len(reg) >= 30
    assert {reg.entry(n).plugin for n in reg.names()} == {"metarec.learners.builtin"}
    assert host.registry("learner") is reg  # built once


def test_entry_point_plugins_load_and_report(monkeypatch, tmp_path):
    _fake_entry_points(
        monkeypatch,
        tmp_path,
        {"metarec_good": GOOD, "metarec_broken": BROKEN_IMPORT, "metarec_raises": RAISES},
    )
    host = PluginHost(autoload=True)
    reg = host.registry("learner")
    assert reg.entry("good_one").plugin == "good"
    assert "random_forest" in reg  # the rest keeps working
    report = {p["name"]: p for p in host.report()}
    assert report["good"]["registered"] == {"learner": ["good_one"]}
    assert "this_module_does_not_exist_anywhere" in report["broken"]["errors"][0]
    assert "failed to import" in report["broken"]["errors"][0]
    assert any("plugin bug" in e for e in report["raises"]["errors"])


def test_disable_autoload_env(monkeypatch, tmp_path):
    _fake_entry_points(monkeypatch, tmp_path, {"metarec_good": GOOD})
    monkeypatch.setenv("METAREC_DISABLE_PLUGIN_AUTOLOAD", "1")
    host = PluginHost()
    assert "good_one" not in host.registry("learner")
    monkeypatch.setenv("METAREC_DISABLE_PLUGIN_AUTOLOAD", "0")
    assert "good_one" in PluginHost().registry("learner")


def test_allow_list_env(monkeypatch, tmp_path):
    _fake_entry_points(monkeypatch, tmp_path, {"metarec_good": GOOD, "metarec_raises": RAISES})
    monkeypatch.setenv("METAREC_DISABLE_PLUGIN_AUTOLOAD", "0")
    monkeypatch.setenv("METAREC_PLUGINS", "raises")
    host = PluginHost()
    assert "good" not in host.infos and "raises" in host.infos
    assert "good_one" not in host.registry("learner")


def test_hook_that_raises_is_reported_and_skipped():
    host = PluginHost(autoload=False)
    host.register_plugin(_plugin("bad", raise_in_hook=True), name="bad")
    reg = host.registry("learner")
    assert "random_forest" in reg
    assert any("boom in hook" in e for e in host.infos["bad"].errors)


def test_name_clash_is_an_error_naming_both():
    host = PluginHost(autoload=False)
    host.register_plugin(_plugin("first", ["dup"]), name="first")
    host.register_plugin(_plugin("second", ["dup"]), name="second")
    reg = host.registry("learner")
    with pytest.raises(PluginError, match="'first'.*'second'|'second'.*'first'"):
        reg.get("dup")
    assert "dup" not in reg.names()
    errors = host.infos["second"].errors + host.infos["first"].errors
    assert any("first" in e and "second" in e for e in errors)


def test_a_plugin_cannot_take_a_builtins_name_and_the_builtin_is_kept():
    from metarec.learners.builtin import BUILTIN_LEARNERS

    host = PluginHost(autoload=False)
    host.register_plugin(_plugin("shadow", ["random_forest", "shadow_own"]), name="shadow")
    reg = host.registry("learner")
    builtin_rf = next(lr for lr in BUILTIN_LEARNERS if lr.name == "random_forest")
    assert reg.get("random_forest") is builtin_rf and reg.entry("random_forest").plugin == "metarec.learners.builtin"
    assert "shadow_own" in reg  # the plugin's other learners stay
    (error,) = host.infos["shadow"].errors
    assert "'shadow'" in error and "'random_forest'" in error and "built-in is kept" in error and "another name" in error
    assert not host.infos["metarec.learners.builtin"].errors


def test_invalid_registration_is_refused():
    host = PluginHost(autoload=False)
    mod = types.ModuleType("weird")

    @hookimpl
    def register_learners(register):
        register("not a learner")
        register(Learner(name="bad_task", task_types=("clustering",), estimator=lambda c, r: None,
                         search_space=lambda t: {}))

    mod.register_learners = register_learners
    host.register_plugin(mod, name="weird")
    reg = host.registry("learner")
    assert "bad_task" not in reg
    errs = " ".join(host.infos["weird"].errors)
    assert "expects a metarec.learners.Learner" in errs and "task_types" in errs


def test_registry_unknown_name_suggests():
    reg = Registry("learner")
    reg.add("random_forest", object(), "p")
    with pytest.raises(PluginError, match="did you mean random_forest"):
        reg.get("random_forst")


def test_cli_plugins_json_reports_broken_plugin(monkeypatch, tmp_path, fresh_host):
    _fake_entry_points(monkeypatch, tmp_path, {"metarec_broken": BROKEN_IMPORT, "metarec_good": GOOD})
    monkeypatch.setenv("METAREC_DISABLE_PLUGIN_AUTOLOAD", "0")
    from metarec.cli import cli

    result = CliRunner().invoke(cli, ["plugins", "--json"])
    assert result.exit_code == 0, result.output
    data = {p["name"]: p for p in json.loads(result.stdout)}
    assert data["broken"]["errors"] and data["good"]["registered"]["learner"] == ["good_one"]
    assert data["metarec.learners.builtin"]["builtin"] is True
    table = CliRunner().invoke(cli, ["plugins"])
    assert table.exit_code == 0 and "broken" in table.output


@contextlib.contextmanager
def _cli_with_plugin(monkeypatch, tmp_path, modname: str, source: str):
    """metarec's CLI with the plugin module ``modname`` installed as an entry point; its commands are put
    back as they were afterwards."""
    _fake_entry_points(monkeypatch, tmp_path, {modname: source})
    monkeypatch.setenv("METAREC_DISABLE_PLUGIN_AUTOLOAD", "0")
    from metarec.cli import cli

    monkeypatch.setattr(cli, "_loaded", False)
    saved = dict(cli.commands)
    try:
        yield cli
    finally:
        cli.commands.clear()
        cli.commands.update(saved)


def test_register_commands_hook_adds_a_command(monkeypatch, tmp_path, fresh_host):
    src = '''
import click
from metarec import hookimpl

@hookimpl
def register_commands(cli):
    @cli.command("hello")
    def hello():
        click.echo("hello from a plugin")
'''
    with _cli_with_plugin(monkeypatch, tmp_path, "metarec_hello", src) as cli:
        result = CliRunner().invoke(cli, ["hello"])
        assert result.exit_code == 0 and "hello from a plugin" in result.output


def test_a_plugin_command_cannot_replace_a_builtin_command(monkeypatch, tmp_path, fresh_host):
    src = '''
import click
from metarec import hookimpl

@hookimpl
def register_commands(cli):
    @cli.command("learners")
    def learners():
        click.echo("hijacked")

    @cli.command("hello")
    def hello():
        click.echo("hello from a plugin")
'''
    with _cli_with_plugin(monkeypatch, tmp_path, "metarec_hijack", src) as cli:
        result = CliRunner().invoke(cli, ["learners"])
        assert result.exit_code == 0 and "hijacked" not in result.output and "random_forest" in result.output
        assert "hello from a plugin" in CliRunner().invoke(cli, ["hello"]).output  # its other command stays
        data = {p["name"]: p for p in json.loads(CliRunner().invoke(cli, ["plugins", "--json"]).stdout)}
        (error,) = data["hijack"]["errors"]
        assert "'learners'" in error and "the first is kept" in error and "another name" in error
        assert data["hijack"]["registered"]["command"] == ["hello"]
        assert not data["metarec.cli_commands"]["errors"]


def test_a_misspelled_hook_is_reported_with_the_hook_it_meant():
    host = PluginHost(autoload=False)
    mod = types.ModuleType("typo")

    @hookimpl
    def register_learner(register):  # the hook is register_learners
        register(_learner("never_seen"))

    mod.register_learner = register_learner
    host.register_plugin(mod, name="typo")
    assert "never_seen" not in host.registry("learner")
    assert host.infos["typo"].errors == ["unknown hook 'register_learner', never called; did you mean register_learners?"]
    assert not any(i.errors for n, i in host.infos.items() if n != "typo")


def test_a_hook_that_returns_instead_of_registering_or_misnames_its_argument_is_one_clear_error():
    host = PluginHost(autoload=False)
    returns, misnamed = types.ModuleType("returns"), types.ModuleType("misnamed")

    @hookimpl
    def register_learners(register):
        return [_learner("returned_one")]

    returns.register_learners = register_learners

    @hookimpl
    def register_metafeatures(reg):  # the argument must be called `register`
        pass

    misnamed.register_metafeatures = register_metafeatures
    host.register_plugin(returns, name="returns")
    host.register_plugin(misnamed, name="misnamed")
    assert "returned_one" not in host.registry("learner")
    assert host.infos["returns"].errors == [
        "hook register_learners returned a list, which metarec ignores; call register(...) for each learner instead"]
    (error,) = host.infos["misnamed"].errors
    assert error.startswith("failed to register: hook register_metafeatures takes (register); name the "
                            "function's arguments exactly so") and "\n" not in error


def test_a_broken_metamodel_factory_is_one_line_naming_it():
    from metarec.exceptions import MetarecError
    from metarec.records import MetaModelSpec

    def missing_dependency():
        import metarec_no_such_module  # noqa: F401  (the heavy import the docs put inside the factory)

    with pytest.raises(MetarecError, match=r"meta-model 'heavy' could not be created \(ModuleNotFoundError: No "
                                           r"module named 'metarec_no_such_module'\); fix or uninstall"):
        MetaModelSpec("heavy", missing_dependency).create()
    with pytest.raises(MetarecError, match="meta-model 'odd': its factory returned a 'object' object, not a "
                                           "metarec.metamodels.base.MetaModel"):
        MetaModelSpec("odd", object).create()


def test_metamodel_registration_through_hook():
    host = PluginHost(autoload=False)
    mod = types.ModuleType("mm")

    @hookimpl
    def register_metamodels(register):
        register("constant", lambda: object(), description="always the same")
        register("broken", "not callable")

    mod.register_metamodels = register_metamodels
    host.register_plugin(mod, name="mm")
    reg = host.registry("metamodel")
    assert reg.get("constant").description == "always the same"
    assert "broken" not in reg
    assert any("factory must be callable" in e for e in host.infos["mm"].errors)


# -- plugin allow-list -------------------------------------------------------------------------------------------
def test_plugin_allow_list_limits_what_loads(monkeypatch, tmp_path):
    from metarec.plugins import PluginHost

    marker = tmp_path / "IMPORTED"
    sneaky = f"open({str(marker)!r}, 'w').close()\n" + GOOD.replace("good_one", "sneaky_one")
    _fake_entry_points(monkeypatch, tmp_path, {"metarec_good": GOOD, "metarec_raises": RAISES,
                                               "metarec_sneaky": sneaky})
    monkeypatch.setenv("METAREC_DISABLE_PLUGIN_AUTOLOAD", "0")
    monkeypatch.setenv("METAREC_PLUGINS", "good")
    host = PluginHost()
    assert "good_one" in host.registry("learner") and "sneaky_one" not in host.registry("learner")
    assert set(host.infos) & {"good", "raises", "sneaky"} == {"good"}
    assert not marker.exists()  # a plugin outside the list is not even imported
    monkeypatch.setenv("METAREC_PLUGINS", "")
    host = PluginHost()
    assert not set(host.infos) & {"good", "raises", "sneaky"} and "random_forest" in host.registry("learner")
