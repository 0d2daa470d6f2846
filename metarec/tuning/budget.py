"""What a time budget decides after the search: the trial to refit and a refit that cannot overrun.

:class:`BudgetGuard` (an Optuna callback) stops the study before a trial the budget cannot see finished,
reserving the refit of the trial :meth:`BudgetGuard.choice` would refit; :func:`affordable` makes that
choice after the search; :func:`refit_within` refits it in a forked child killed when the budget ends.
"""

from __future__ import annotations

import math
import time
import warnings

from ..exceptions import MetarecError, MetarecWarning
from .refit import best_of, refit

def refit_within(ds, study, best, deadline: float, time_budget: float, random_state):
    """The refit of ``best`` in a forked child killed at ``deadline`` (at least a tenth of the budget from
    now): a fit in C code that converges slowly on all the rows (an SVC's calibration fits) cannot stop
    otherwise. When it does not finish, a faster finished trial is refit instead, with a warning, in a child
    killed after a tenth of the budget (at least :data:`FALLBACK_MIN_SECONDS`); when that does not finish
    either, :class:`MetarecError`. Returns the trial refit and its pipeline."""
    import optuna

    from .forked import BudgetEnded, FoldError, run_forked

    learner, config = best_of(best)
    left = max(deadline - time.perf_counter(), 0.1 * time_budget)
    try:
        return best, run_forked(lambda: refit(ds, learner, config, random_state), left)
    except FoldError:  # the refit itself fails: in this process, so that its own exception is raised
        return best, refit(ds, learner, config, random_state)
    except BudgetEnded:
        pass
    done = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    seconds = best.user_attrs.get("cv_seconds", math.inf)
    # the best of the trials whose CV took at most a quarter of the best's (a refit about 4 x faster), else
    # the fastest: the fastest alone is often a degenerate configuration (a near-constant model)
    cheap = [t for t in done if t.user_attrs.get("cv_seconds", math.inf) <= FALLBACK_SHARE * seconds]
    fallback = max(cheap, key=lambda t: t.value) if cheap else min(
        done, key=lambda t: (t.user_attrs.get("cv_seconds", math.inf), -t.value))
    other, other_config = best_of(fallback)
    warnings.warn(f"the refit of the best configuration ({learner}, CV {best.value:.4f}) did not finish within "
                  f"the time budget; refit a faster one instead ({other}, CV {fallback.value:.4f})",
                  MetarecWarning, stacklevel=3)
    # bounded too: a configuration whose folds were quick can still converge slowly on all the rows
    try:
        return fallback, run_forked(lambda: refit(ds, other, other_config, random_state),
                                    max(0.1 * time_budget, FALLBACK_MIN_SECONDS))
    except FoldError:
        return fallback, refit(ds, other, other_config, random_state)
    except BudgetEnded:
        raise MetarecError(f"neither the best configuration ({learner}) nor a faster one ({other}) could be refit on "
                           f"all the rows within the time budget of {time_budget:g} s; give a larger time budget, "
                           f"or fewer rows") from None


#: when the best configuration's refit overruns the budget, the best trial whose CV took at most this share of
#: its CV time is refit instead
FALLBACK_SHARE = 0.25
#: the faster configuration's refit is killed after a tenth of the budget, and at least this many seconds
FALLBACK_MIN_SECONDS = 0.5
#: under a time budget, the trial refit is the best whose predicted refit takes at most this share of the budget
REFIT_SHARE = 0.25


class BudgetGuard:
    """An Optuna callback that stops the study before a trial the time budget cannot see finished: after each
    trial, the median CV seconds of this run's finished trials (the next trial) plus the refit on all rows of
    the trial to be refit (:meth:`choice`; its CV seconds / (cv - 1): a fold's fit on (cv - 1) / cv of the
    rows, scaled to all of them) must fit before ``deadline`` (a ``time.perf_counter()`` value); a classifier
    without ``predict_proba`` (``calibrated``) also reserves its calibration's fits. :meth:`cut_time` is when a
    running trial is cut: the deadline less the refit's reserve."""

    def __init__(self, deadline: float, cv: int, since: int = 0, calibrated: frozenset = frozenset(),
                 budget: float | None = None):
        self.deadline, self.cv, self.since = deadline, max(2, int(cv)), since
        self.calibrated = calibrated  # learners whose refit also fits a calibration (3 folds on 2/3 of the rows)
        self.budget = budget
        self.reserve = 0.0

    def cut_time(self) -> float:
        return self.deadline - self.reserve

    def refit_seconds(self, trial) -> float:
        """Predicted seconds of ``trial``'s refit on all rows (its calibration's fits included)."""
        full = trial.user_attrs.get("cv_seconds", math.inf) / (self.cv - 1)
        if trial.params.get("learner") in self.calibrated:  # 3 fits on 2/3 of the rows, then one on all
            return full + 3 * full * 2 / 3 + full
        return full

    def choice(self, done: list):
        """The trial to refit among ``done``: the best whose refit takes at most :data:`REFIT_SHARE` of the
        budget (an SVC that wins by a hair but needs most of the budget to refit would leave no time to
        search), else the one with the quickest refit."""
        cap = REFIT_SHARE * self.budget if self.budget else math.inf
        affordable = [t for t in done if self.refit_seconds(t) <= cap]
        return max(affordable, key=lambda t: t.value) if affordable else min(done, key=self.refit_seconds)

    def __call__(self, study, trial) -> None:
        import statistics

        import optuna

        done = [t for t in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
                if t.number >= self.since and "cv_seconds" in t.user_attrs]
        if not done:
            return
        next_trial = statistics.median(t.user_attrs["cv_seconds"] for t in done)
        self.reserve = self.refit_seconds(self.choice(done))
        if time.perf_counter() + next_trial + self.reserve > self.deadline:
            study.stop()


def affordable(best, study, guard):
    """``best``, or under a budget the trial :meth:`BudgetGuard.choice` refits when ``best``'s refit would take
    over :data:`REFIT_SHARE` of the budget (a warning says so)."""
    import optuna

    done = [t for t in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
            if "cv_seconds" in t.user_attrs]
    if guard is None or best not in done or not guard.budget:
        return best
    pick = guard.choice(done)
    if pick.number == best.number or pick.value is None:
        return best
    warnings.warn(f"the best configuration ({best.params.get('learner')}, CV {best.value:.4f}) needs about "
                  f"{guard.refit_seconds(best):.0f} s to refit, over {REFIT_SHARE:.0%} of the time budget; refit "
                  f"the best that does not ({pick.params.get('learner')}, CV {pick.value:.4f})", MetarecWarning,
                  stacklevel=3)
    return pick
