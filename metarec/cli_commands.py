"""Built-in CLI commands, attached to the ``metarec`` group through the ``register_commands`` hook.

Each command is thin: parse, call one API function, print. Heavy libraries are imported inside the
command bodies so that ``metarec --help`` stays instant.
"""

from __future__ import annotations

import click

from .hookspecs import hookimpl


def _task_option():
    return click.option(
        "--task",
        "task_type",
        type=click.Choice(["classification", "regression"]),
        default=None,
        help="Task type (inferred from the target when omitted).",
    )


@hookimpl
def register_commands(cli):
    from .cli import console, echo_json, warn

    @cli.command("plugins")
    @click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
    def plugins_cmd(as_json: bool) -> None:
        """List plugins: name, version, what each registered, or its error."""
        from .plugins import plugin_report

        report = plugin_report()
        if as_json:
            echo_json(report)
            return
        from rich.table import Table

        table = Table(title="metarec plugins")
        for col in ("plugin", "version", "registered", "errors"):
            table.add_column(col, overflow="fold")
        for p in report:
            reg = "; ".join(f"{k}: {len(v)}" for k, v in p["registered"].items()) or "-"
            table.add_row(
                p["name"] + (" (built-in)" if p["builtin"] else ""),
                p["version"] or "?",
                reg,
                "\n".join(p["errors"]) or "-",
            )
        console().print(table)

    @cli.command("learners")
    @click.option("--task", "task_type", type=click.Choice(["classification", "regression"]), default=None,
                  help="Only learners for this task type.")
    @click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
    def learners_cmd(task_type: str | None, as_json: bool) -> None:
        """List learners with their task types, family and LCDB name."""
        from .learners import get_learners
        from .plugins import get_plugin_host

        reg = get_plugin_host().registry("learner")
        rows = []
        for lr in get_learners(task_type):
            d = lr.as_dict()
            d["plugin"] = reg.entry(lr.name).plugin
            rows.append(d)
        if as_json:
            echo_json(rows)
            return
        from rich.table import Table

        table = Table(title=f"metarec learners ({len(rows)})")
        for col in ("name", "task", "family", "LCDB name", "plugin"):
            table.add_column(col, overflow="fold")
        for d in rows:
            table.add_row(d["name"], ",".join(d["task_types"]), d["family"], d["lcdb_name"] or "-", d["plugin"])
        console().print(table)

    @cli.command("inspect")
    @click.argument("data")
    @click.option("--target", "-t", default=None, help="Target column (OpenML datasets default to theirs).")
    @_task_option()
    @click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
    def inspect_cmd(data, target, task_type, as_json) -> None:
        """Load and validate DATA (a file or openml:ID): shape, task type, column types, warnings."""
        from .data import load_dataset

        ds = load_dataset(data, target=target, task_type=task_type)
        summary = ds.summary()
        if as_json:
            echo_json(summary)
            return
        for w in ds.warnings:
            warn(w)
        from rich.table import Table

        table = Table(title=f"{ds.name} ({ds.source})", show_header=False)
        for k in ("task_type", "target", "n_rows", "n_features", "n_categorical", "n_classes"):
            table.add_row(k, str(summary[k]))
        console().print(table)

    @cli.command("metafeatures")
    @click.argument("data")
    @click.option("--target", "-t", default=None, help="Target column (OpenML datasets default to theirs).")
    @_task_option()
    @click.option("--groups", "-g", default=None, help="Comma-separated meta-feature groups (default: all defaults).")
    @click.option("--time-budget", type=click.FloatRange(min=0), default=None, help="Seconds for all groups together.")
    @click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
    def metafeatures_cmd(data, target, task_type, groups, time_budget, as_json) -> None:
        """Compute meta-features of DATA (a file or openml:ID)."""
        from .data import load_dataset
        from .metafeatures import extract_metafeatures

        ds = load_dataset(data, target=target, task_type=task_type)
        for w in ds.warnings:
            warn(w)
        values, report = extract_metafeatures(ds, groups=groups, time_budget=time_budget, return_report=True)
        report = report if isinstance(report, dict) else report.as_dict()
        for g, r in report.get("groups", {}).items():
            if r.get("status") != "ok":
                warn(f"group {g}: {r.get('status')}: {r.get('reason') or ', '.join(sorted(r.get('skipped', {})))}")
        if as_json:
            echo_json({"dataset": ds.name, "task_type": ds.task_type, "metafeatures": values.to_dict(),
                       "report": report})
            return
        from rich.table import Table

        table = Table(title=f"meta-features of {ds.name} ({ds.n_rows} rows x {ds.n_features} features, {ds.task_type})")
        table.add_column("meta-feature")
        table.add_column("value", justify="right")
        for k, v in values.items():
            table.add_row(k, "NaN" if v != v else f"{v:.6g}")
        console().print(table)
