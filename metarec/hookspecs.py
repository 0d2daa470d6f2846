"""The plugin contract of metarec.

A plugin is a module (or object) with functions decorated by :data:`metarec.hookimpl` whose names are
the hooks below. Built-in learners, meta-feature groups and meta-models register through these very
hooks, exactly as third-party packages do through the ``metarec`` entry-point group::

    [project.entry-points.metarec]
    xgboost = "metarec_xgboost"

Each ``register_*`` hook receives a ``register`` callback and hands things in by calling it. The host
validates what is handed in, records which plugin supplied it (provenance), and refuses a name that
another plugin already registered with a :class:`~metarec.exceptions.PluginError` naming both plugins
(names are keys of knowledge-base rows, so they must be unique).

All hooks are called once per process, when the plugin manager is first used
(:func:`metarec.plugins.get_plugin_manager`). Every implementation is called (none is "first result
only"); their return values are ignored. An implementation that raises is reported with the plugin's
name and the error (``metarec plugins``) and skipped; the rest of metarec keeps working.
"""

from __future__ import annotations

import pluggy

hookspec = pluggy.HookspecMarker("metarec")
hookimpl = pluggy.HookimplMarker("metarec")


@hookspec
def register_learners(register):
    """Register learners (model families with a pipeline factory and an Optuna search space).

    Parameters
    ----------
    register : callable
        ``register(learner)`` where ``learner`` is a :class:`metarec.learners.Learner`. Its ``name`` is
        stable: it keys the knowledge base's runs, so renaming a learner is a KB migration.

    Called once, when the learner registry is first built. Keep imports of heavy libraries inside the
    learner's factory, not at module import time, so ``metarec --help`` stays fast.
    """


@hookspec
def register_metafeatures(register):
    """Register meta-feature groups.

    Parameters
    ----------
    register : callable
        ``register(group)`` where ``group`` is a :class:`metarec.metafeatures.MetaFeatureGroup` subclass
        instance. A group declares its ``name`` and its ``feature_names`` up front, and computes a
        mapping of those names to floats (NaN where undefined) for a :class:`metarec.data.Dataset`.

    Called once, when the meta-feature registry is first built. Feature names must be unique across
    groups (they are columns of the knowledge base's ``datasets`` table).
    """


@hookspec
def register_metamodels(register):
    """Register meta-models (models that predict learner performance from meta-features).

    Parameters
    ----------
    register : callable
        ``register(name, factory, description="")`` where ``factory()`` returns an unfitted meta-model
        object following :class:`metarec.metamodels.base.MetaModel`.

    Called once, when the meta-model registry is first built.
    """


@hookspec
def register_commands(cli):
    """Add commands to the ``metarec`` command line.

    Parameters
    ----------
    cli : click.Group
        The top-level ``metarec`` group; add commands with ``@cli.command()`` or ``cli.add_command``.

    Called once, when the CLI starts. Keep the module light: import heavy libraries inside the command
    function, so ``metarec --help`` stays fast.
    """
