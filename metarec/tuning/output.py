"""What a tuning run leaves on disk: the refit model (joblib + a JSON sidecar) and a report directory."""

from __future__ import annotations

import io
import json
from pathlib import Path

#: what a report directory holds (an existing one is overwritten only with ``force``)
REPORT_FILES = ("optimization_history.png", "summary.json")


def check_outputs(out: str | Path | None = None, report: str | Path | None = None, force: bool = False) -> None:
    """Refuse, before any work, a model path or report directory that cannot be written, or whose files
    exist (without ``force``): one-line :class:`~metarec.exceptions.MetarecError` naming ``--out`` /
    ``--report``. Leaves nothing behind."""
    from ..fileio import ensure_new_file

    if out is not None:
        ensure_new_file(out, force)
    for name in REPORT_FILES if report is not None else ():
        ensure_new_file(Path(report) / name, force, "--report", new_dirs=1)  # the report directory may be new


def save_model(result, path: str | Path, force: bool = False) -> Path:
    """Save the refit pipeline of ``result`` (a :class:`~metarec.tuning.TuneResult`) with joblib, and a
    JSON sidecar ``<path>.json`` (learner, config, CV score, metric, input columns, classes).

    joblib files are pickles: load only models you made yourself. An existing ``path`` is refused unless
    ``force``.
    """
    import joblib

    from ..fileio import atomic_write_bytes

    check_outputs(out=path, force=force)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    joblib.dump(result.best_pipeline, buf)
    atomic_write_bytes(path, buf.getvalue())
    meta = {"learner": result.best_learner, "config": result.best_config, "cv_score": result.best_score,
            "metric": result.metric, "task_type": result.task_type, "study": result.study.study_name}
    inner = getattr(result.best_pipeline, "pipeline", result.best_pipeline)  # inside LabelEncodedClassifier
    steps = getattr(inner, "steps", None) or [("", None)]
    if steps[0][0] == "types" and hasattr(steps[0][1], "kinds_"):
        # what predict expects: these columns, raw as in the training file (the model types them itself)
        meta["input_columns"] = {str(c): k for c, k in steps[0][1].kinds_.items()}
        if result.task_type == "classification" and hasattr(result.best_pipeline, "classes_"):
            meta["classes"] = [c.item() if hasattr(c, "item") else c for c in result.best_pipeline.classes_]
    atomic_write_bytes(path.with_suffix(path.suffix + ".json"), json.dumps(meta, indent=2, default=str).encode())
    return path


def history_figure(study, title: str = ""):
    """The optimization history of ``study`` (each complete trial's value and the best so far) as a
    :class:`matplotlib.figure.Figure` on its own Agg canvas: no pyplot, no global backend."""
    import optuna
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    complete = [t for t in study.get_trials(deepcopy=False) if t.state == optuna.trial.TrialState.COMPLETE]
    numbers = [t.number for t in complete]
    values = [t.value for t in complete]
    best, so_far = [], float("-inf")
    for v in values:
        so_far = max(so_far, v)
        best.append(so_far)
    fig = Figure(figsize=(6.4, 4.8))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.scatter(numbers, values, color="tab:blue", alpha=0.8, label="Objective Value")
    ax.plot(numbers, best, color="tab:red", marker="o", markersize=3, label="Best Value")
    ax.set_xlabel("Trial")
    ax.set_ylabel("Objective Value")
    ax.set_title(title or "Optimization History")
    ax.grid(alpha=0.3)
    if complete:
        ax.legend(loc="best")
    fig.tight_layout()
    return fig


def write_report(result, directory: str | Path, force: bool = False) -> Path:
    """Write ``optimization_history.png`` and ``summary.json`` (:meth:`TuneResult.summary`) into
    ``directory``; existing files are refused unless ``force``."""
    from ..fileio import atomic_write_bytes, atomic_write_figure

    check_outputs(report=directory, force=force)
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    fig = history_figure(result.study, f"{result.study.study_name}: {result.metric}")
    atomic_write_figure(fig, directory / "optimization_history.png", dpi=110)
    atomic_write_bytes(directory / "summary.json",
                       json.dumps(result.summary(), indent=2, default=str, allow_nan=False).encode())
    return directory
