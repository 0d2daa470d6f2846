"""Validated registries with provenance: which plugin gave what; a name clash is an error naming both."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Generic, Iterator, TypeVar

from .exceptions import PluginError

T = TypeVar("T")


@dataclass
class Entry(Generic[T]):
    """One registered thing and the plugin that provided it."""

    name: str
    obj: T
    plugin: str
    builtin: bool = False


@dataclass
class Registry(Generic[T]):
    """Name -> thing, with the providing plugin recorded.

    A built-in's name is kept by the built-in: a plugin registering it is refused (the registration call
    raises :class:`PluginError`) and metarec works as without that registration. Between two plugins, a
    second registration of a taken name is refused: the name is marked as clashing, and both the
    registration call and later lookups of that name raise :class:`PluginError` naming both plugins.
    ``conflicts(obj, entries)`` (optional) refuses a registration that clashes with the registered ones in
    another way (a meta-feature group declaring another group's feature names).
    """

    kind: str
    validate: Callable[[Any], None] | None = None
    conflicts: Callable[[Any, list], None] | None = None
    _entries: dict[str, Entry[T]] = field(default_factory=dict)
    _clashes: dict[str, list[str]] = field(default_factory=dict)

    def add(self, name: str, obj: T, plugin: str, builtin: bool = False) -> None:
        if self.validate is not None:
            self.validate(obj)
        if not isinstance(name, str) or not name:
            raise PluginError(f"plugin {plugin!r} registered a {self.kind} without a name")
        if name in self._entries and self._entries[name].builtin and not builtin:
            raise PluginError(
                f"plugin {plugin!r} registered {self.kind} {name!r}, the name of a built-in "
                f"({self._entries[name].plugin}); the built-in is kept: give the plugin's {self.kind} another name"
            )
        if self.conflicts is not None and name not in self._entries:
            self.conflicts(obj, [e for e in self._entries.values() if e.name not in self._clashes])
        if name in self._entries:
            first = self._entries[name].plugin
            self._clashes.setdefault(name, [first]).append(plugin)
            raise PluginError(
                f"{self.kind} {name!r} is registered by both plugin {first!r} and plugin {plugin!r}; "
                f"uninstall one of them or exclude one with METAREC_PLUGINS"
            )
        self._entries[name] = Entry(name, obj, plugin, builtin)

    def get(self, name: str) -> T:
        return self.entry(name).obj

    def entry(self, name: str) -> Entry[T]:
        if name in self._clashes:
            owners = " and ".join(repr(p) for p in self._clashes[name])
            raise PluginError(
                f"{self.kind} {name!r} is registered by several plugins ({owners}); "
                f"uninstall one of them or exclude one with METAREC_PLUGINS"
            )
        try:
            return self._entries[name]
        except KeyError:
            import difflib

            close = difflib.get_close_matches(name, list(self._entries), n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise PluginError(
                f"unknown {self.kind} {name!r}{hint} (known: {', '.join(sorted(self.names())[:12])}"
                f"{', ...' if len(self.names()) > 12 else ''}; see `metarec plugins`)"
            ) from None

    def names(self) -> list[str]:
        return [n for n in self._entries if n not in self._clashes]

    def entries(self) -> list[Entry[T]]:
        return [e for n, e in self._entries.items() if n not in self._clashes]

    def __contains__(self, name: object) -> bool:
        return name in self._entries and name not in self._clashes

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self.names())
