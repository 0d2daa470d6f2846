"""The regret plot of an evaluation: a Figure on its own Agg canvas (no pyplot, no global backend)."""

from __future__ import annotations

from .protocol import EvaluationResult


def _boxes(ax, data) -> None:
    """Box plots (quartiles, 1.5 IQR whiskers, outliers, mean) at x = 1, 2, ...; not ``Axes.boxplot``, which
    reads every rcParam and so makes matplotlib choose a backend through pyplot."""
    from matplotlib.cbook import boxplot_stats

    for x, st in enumerate(boxplot_stats(data), start=1):
        lo, q1, q3, hi = st["whislo"], st["q1"], st["q3"], st["whishi"]
        ax.plot([x - .25, x + .25, x + .25, x - .25, x - .25, None, x, x, None, x, x, None, x - .12, x + .12, None,
                 x - .12, x + .12], [q1, q1, q3, q3, q1, None, lo, q1, None, q3, hi, None, lo, lo, None, hi, hi], "k-")
        ax.plot([x - .25, x + .25], [st["med"]] * 2, color="tab:orange")
        ax.plot([x] * len(st["fliers"]), st["fliers"], "ko", mfc="none")
        ax.plot([x], [st["mean"]], "^", color="tab:green")
    ax.set_xlim(0.5, len(data) + 0.5)


def plot_regret(result: EvaluationResult, path) -> str:
    """Draw the distribution (ECDF) of each meta-model's per-dataset top-1 regret against single-best.

    Writes a PNG/PDF/SVG (by extension) and returns the path; drawn on its own Agg canvas (no pyplot).
    """
    import numpy as np
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from ..fileio import atomic_write_figure

    per = result.per_dataset
    fig = Figure(figsize=(11, 4.2))
    FigureCanvasAgg(fig)
    ax1, ax2 = fig.subplots(1, 2)
    names = list(result.summary)
    for n in names:
        r = np.sort(per.loc[per["metamodel"] == n, "regret"].to_numpy())
        y = np.arange(1, len(r) + 1) / len(r)
        style = {"linestyle": "--", "color": "black"} if n == "single-best" else {}
        ax1.step(np.maximum(r, 1e-4), y, where="post", label=f"{n} (mean {r.mean():.4f})", **style)
    ax1.set(xscale="log", xlabel="top-1 regret (0 shown at 1e-4)", ylabel="share of datasets with regret <= x",
            title="regret distribution")
    ax1.legend(fontsize=8, loc="lower right")
    ax1.grid(alpha=0.3)
    data = [per.loc[per["metamodel"] == n, "regret"].to_numpy() for n in names]
    _boxes(ax2, data)
    ax2.set_xticks(range(1, len(names) + 1), names, rotation=20)
    ax2.set_yscale("symlog", linthresh=0.01)
    ax2.set(ylim=(0, None), ylabel="top-1 regret",
            title=f"{result.settings.get('protocol', '')}, {result.settings.get('metric', '')}")
    ax2.grid(alpha=0.3, axis="y")
    fig.tight_layout()
    atomic_write_figure(fig, path, dpi=120)  # never a half-written image
    return str(path)
