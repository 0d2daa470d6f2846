"""The plugin manager: built-ins plus entry points of group ``metarec``, loaded once.

A plugin that fails to import, or raises inside a hook, is recorded with its name and the error (see
:func:`plugin_report`, ``metarec plugins``) and skipped; the rest of metarec keeps working.

Environment variables
---------------------
``METAREC_DISABLE_PLUGIN_AUTOLOAD``
    Set to ``1`` to load only the built-ins (no entry points). Useful in tests.
``METAREC_PLUGINS``
    A comma-separated allow-list of entry-point names; other third-party plugins are not loaded.
"""

from __future__ import annotations

import importlib
import inspect
import logging
import os
import threading
from dataclasses import dataclass, field
from typing import Any

import pluggy

from . import hookspecs
from ._version import __version__
from .exceptions import PluginError
from .records import LearnerBase, MetaFeatureGroupBase, MetaModelSpec
from .registry import Registry

logger = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "metarec"
DISABLE_ENV = "METAREC_DISABLE_PLUGIN_AUTOLOAD"
ALLOW_ENV = "METAREC_PLUGINS"

DEFAULT_PLUGINS: tuple[str, ...] = (
    "metarec.learners.builtin",
    "metarec.metafeatures.builtin",
    "metarec.metamodels.builtin",
    "metarec.cli_commands",
    "metarec.cli_evaluate",
)


@dataclass
class PluginInfo:
    """What metarec knows about one plugin: where it came from, what it registered, what went wrong."""

    name: str
    module: str
    version: str | None = None
    builtin: bool = False
    registered: dict[str, list[str]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "module": self.module,
            "version": self.version,
            "builtin": self.builtin,
            "registered": self.registered,
            "errors": self.errors,
        }


class PluginHost:
    """A pluggy manager plus the registries that the ``register_*`` hooks fill."""

    def __init__(self, *, autoload: bool | None = None, builtins: tuple[str, ...] = DEFAULT_PLUGINS):
        self.pm = pluggy.PluginManager("metarec")
        self.pm.add_hookspecs(hookspecs)
        self.infos: dict[str, PluginInfo] = {}
        self._registries: dict[str, Registry] = {}
        self._command_owners: dict[str, str] = {}
        self._lock = threading.RLock()
        for modname in builtins:
            self._load_module(modname, modname, version=__version__, builtin=True)
        if autoload is None:
            autoload = os.environ.get(DISABLE_ENV, "").strip().lower() not in {"1", "true", "yes"}
        if autoload:
            self.load_entrypoints()

    # -- loading -------------------------------------------------------------------------------------
    def _load_module(self, name: str, modname: str, version: str | None, builtin: bool) -> None:
        info = self.infos.setdefault(name, PluginInfo(name, modname, version, builtin))
        try:
            module = importlib.import_module(modname)
        except Exception as exc:  # a broken plugin must not break metarec
            info.errors.append(f"failed to import {modname}: {type(exc).__name__}: {exc}")
            logger.warning("plugin %s failed to import: %s", name, exc)
            return
        self.register_plugin(module, name=name, info=info)

    def register_plugin(self, plugin: object, name: str, info: PluginInfo | None = None) -> None:
        """Register an already imported plugin object (a module or an instance with hookimpls)."""
        if info is None:
            info = self.infos.setdefault(name, PluginInfo(name, getattr(plugin, "__name__", name)))
        try:
            self.pm.register(plugin, name=name)
        except pluggy.PluginValidationError as exc:  # pluggy's text spans three lines: one, with the fix
            hook = getattr(exc, "hookname", None) or str(exc).split("hook '", 1)[-1].split("'", 1)[0]
            spec = getattr(hookspecs, hook, None)
            args = ", ".join(inspect.signature(spec).parameters) if spec else "?"
            info.errors.append(f"failed to register: hook {hook} takes ({args}); name the function's arguments "
                               f"exactly so ({' '.join(str(exc).split())})")
        except Exception as exc:
            info.errors.append(f"failed to register: {type(exc).__name__}: {exc}")
        else:
            info.errors.extend(self._unknown_hooks(plugin))
        # registries built before this plugin arrived are rebuilt lazily
        self._registries.clear()
        for i in self.infos.values():
            i.registered.clear()
            i.errors[:] = [e for e in i.errors if not e.startswith("hook ")]

    def _unknown_hooks(self, plugin: object) -> list[str]:
        """A @hookimpl whose name is no metarec hook (a typo) would never be called: say so, with the
        closest hook name."""
        import difflib

        known = [n for n in dir(hookspecs) if n.startswith("register_")]
        errors = []
        for caller in self.pm.get_hookcallers(plugin) or []:
            if caller.spec is None:
                close = difflib.get_close_matches(caller.name, known, n=1)
                hint = f"did you mean {close[0]}?" if close else f"metarec's hooks are {', '.join(known)}"
                errors.append(f"unknown hook {caller.name!r}, never called; {hint}")
                logger.warning("plugin %s: unknown hook %r", self.pm.get_name(plugin), caller.name)
        return errors

    def load_entrypoints(self) -> None:
        from importlib.metadata import entry_points

        allow = os.environ.get(ALLOW_ENV)
        allowed = None if allow is None else {a.strip() for a in allow.split(",") if a.strip()}
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            if ep.name in self.infos:
                continue
            if allowed is not None and ep.name not in allowed:
                logger.info("plugin %s not loaded: not in %s", ep.name, ALLOW_ENV)
                continue
            version = getattr(ep.dist, "version", None) if getattr(ep, "dist", None) else None
            info = self.infos.setdefault(ep.name, PluginInfo(ep.name, ep.value, version, False))
            try:
                plugin = ep.load()
            except Exception as exc:
                info.errors.append(f"failed to import {ep.value}: {type(exc).__name__}: {exc}")
                logger.warning("plugin %s failed to import: %s", ep.name, exc)
                continue
            self.register_plugin(plugin, name=ep.name, info=info)

    # -- registries ----------------------------------------------------------------------------------
    def registry(self, kind: str) -> Registry:
        """The registry for ``kind`` (``learner``, ``metafeature group``, ``metamodel``), built once."""
        with self._lock:
            if kind not in self._registries:
                self._registries[kind] = self._build(kind)
            return self._registries[kind]

    def _build(self, kind: str) -> Registry:
        hookname, validate, adapt, conflicts = _KINDS[kind]
        reg: Registry = Registry(kind, validate=validate, conflicts=conflicts)
        hook = getattr(self.pm.hook, hookname)
        # built-ins first; a plugin cannot take a built-in's name (Registry.add)
        for impl in hook.get_hookimpls():
            plugin_name = self.pm.get_name(impl.plugin) or repr(impl.plugin)
            info = self.infos.setdefault(plugin_name, PluginInfo(plugin_name, repr(impl.plugin)))

            def register(*args, _p=plugin_name, _i=info, **kwargs):
                try:
                    name, obj = adapt(*args, **kwargs)
                    reg.add(name, obj, _p, builtin=_i.builtin)
                except PluginError as exc:
                    _i.errors.append(f"hook {hookname}: {exc}")
                    logger.warning("%s", exc)
                    return
                _i.registered.setdefault(kind, []).append(name)

            try:
                returned = impl.function(register=register)
            except Exception as exc:
                info.errors.append(f"hook {hookname} raised {type(exc).__name__}: {exc}")
                logger.warning("plugin %s raised in %s: %s", plugin_name, hookname, exc)
            else:
                if returned is not None:  # e.g. `return [learner, ...]`: nothing would be registered, silently
                    info.errors.append(f"hook {hookname} returned a {type(returned).__name__}, which metarec ignores; "
                                       f"call register(...) for each {kind} instead")
        return reg

    def register_commands(self, cli) -> None:
        """Let every plugin add its commands to ``cli``, built-ins first. A command name is kept by the
        plugin that added it first (a built-in's never changes): a later plugin's command of that name is
        taken back and reported in ``metarec plugins``."""
        owners = self._command_owners
        for impl in self.pm.hook.register_commands.get_hookimpls():
            plugin_name = self.pm.get_name(impl.plugin) or repr(impl.plugin)
            info = self.infos.setdefault(plugin_name, PluginInfo(plugin_name, "?"))
            before = dict(cli.commands)
            try:
                impl.function(cli=cli)
            except Exception as exc:
                info.errors.append(f"hook register_commands raised {type(exc).__name__}: {exc}")
            for name, command in list(cli.commands.items()):
                if name in before and command is not before[name] and not info.builtin \
                        and owners.get(name) != plugin_name:  # (a second call re-adds the same commands)
                    cli.commands[name] = before[name]
                    info.errors.append(
                        f"hook register_commands: command {name!r} is taken (by {owners.get(name, 'metarec')}); "
                        f"the first is kept: give the plugin's command another name"
                    )
                elif command is not before.get(name):
                    owners[name] = plugin_name
                    if name not in info.registered.setdefault("command", []):
                        info.registered["command"].append(name)

    def report(self) -> list[dict[str, Any]]:
        for kind in _KINDS:
            self.registry(kind)
        return [i.as_dict() for i in self.infos.values()]


def _validate_learner(obj: Any) -> None:
    if not isinstance(obj, LearnerBase):
        raise PluginError(f"register_learners expects a metarec.learners.Learner, got {type(obj).__name__}")
    obj.validate()


def _validate_group(obj: Any) -> None:
    if not isinstance(obj, MetaFeatureGroupBase):
        raise PluginError(
            f"register_metafeatures expects a metarec.metafeatures.MetaFeatureGroup, got {type(obj).__name__}"
        )
    obj.validate()


def _feature_names_are_free(obj: Any, entries: list) -> None:
    """A meta-feature group may not declare a feature another registered group declares: every
    extraction that uses both would fail."""
    mine = set(getattr(obj, "feature_names", ()) or ())
    for e in entries:
        taken = sorted(mine & set(getattr(e.obj, "feature_names", ()) or ()))
        if taken:
            more = f" and {len(taken) - 3} more" if len(taken) > 3 else ""
            raise PluginError(
                f"metafeature group {obj.name!r} declares {', '.join(map(repr, taken[:3]))}{more}, already declared by "
                f"group {e.name!r} (plugin {e.plugin}); give its features names of their own (e.g. a prefix)"
            )


def _adapt_single(obj):
    return getattr(obj, "name", None), obj


def _adapt_metamodel(name, factory, description=""):
    if not callable(factory):
        raise PluginError(f"meta-model {name!r}: factory must be callable")
    return name, MetaModelSpec(name=name, factory=factory, description=description)


_KINDS = {
    "learner": ("register_learners", _validate_learner, _adapt_single, None),
    "metafeature group": ("register_metafeatures", _validate_group, _adapt_single, _feature_names_are_free),
    "metamodel": ("register_metamodels", None, _adapt_metamodel, None),
}

_HOST: PluginHost | None = None
_HOST_LOCK = threading.Lock()


def get_plugin_host() -> PluginHost:
    """The process-wide plugin host, created (and plugins loaded) on first use."""
    global _HOST
    with _HOST_LOCK:
        if _HOST is None:
            _HOST = PluginHost()
        return _HOST


def reset_plugin_host(host: PluginHost | None = None) -> None:
    """Replace the process-wide host (tests); ``None`` makes the next use load plugins afresh."""
    global _HOST
    with _HOST_LOCK:
        _HOST = host


def plugin_report() -> list[dict[str, Any]]:
    """Every plugin with its version, what it registered and its errors."""
    return get_plugin_host().report()
