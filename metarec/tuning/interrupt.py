"""Ctrl-C during a study: where a press interrupts, what it cut, and the cut warm-start trials queued again."""

from __future__ import annotations

import contextlib
import logging
import sys

logger = logging.getLogger(__name__)

#: study user attribute: numbers of the trials Ctrl-C cut (a finished trial's own attributes are read-only)
CUT_ATTR = "metarec_interrupted"


def cut_numbers(study) -> frozenset:
    """The numbers of the study's trials that Ctrl-C cut (recorded by :func:`requeue_interrupted`)."""
    return frozenset(int(n) for n in study.user_attrs.get(CUT_ATTR, []))


def is_cut(trial, cut: frozenset = frozenset()) -> bool:
    """Whether Ctrl-C cut ``trial`` (``cut``: the study's :func:`cut_numbers`)."""
    return bool(trial.user_attrs.get("interrupted")) or trial.number in cut


def counts(trial, cut: frozenset = frozenset()) -> bool:
    """Whether a trial counts toward ``n_trials``: finished, and not stopped by Ctrl-C."""
    return trial.state.is_finished() and not is_cut(trial, cut)


def failed(trial, cut: frozenset = frozenset()) -> bool:
    """A trial whose configuration failed (an interrupted one did not)."""
    import optuna

    return trial.state == optuna.trial.TrialState.FAIL and not is_cut(trial, cut)


class CtrlC:
    """Ctrl-C during ``study.optimize``: the run stops cleanly wherever the key lands.

    Python raises KeyboardInterrupt wherever the main thread happens to be. Inside the cross-validation
    of a trial (where the time goes) that is what we want: the trial is cut, marked ``interrupted`` and
    closed by Optuna. Inside a write to the storage (creating a trial, a suggested parameter, its result)
    it is not: SQLite stays locked ("database is locked" when Optuna closes the trial), the trial stays
    RUNNING for ever and Optuna's clean-up ends in a traceback. Inside a weakref callback or a
    ``__del__`` (SQLAlchemy's) Python prints "Exception ignored" and goes on as if no key had been
    pressed. So outside the cross-validation a press is only recorded and the run stops after the trial
    in progress (which is kept: it finished); an interrupt Python drops is recorded too, not printed. A
    second press interrupts at once wherever it lands, as usual. Outside the main thread signals cannot
    be handled; there this does nothing. The SIGINT handler and ``sys.unraisablehook`` are restored on exit.
    """

    def __init__(self):
        self.pressed = False
        self._in_cv = False
        self._previous = None

    def __enter__(self):
        import signal
        import threading

        if threading.current_thread() is threading.main_thread():
            previous = signal.getsignal(signal.SIGINT)
            if previous is signal.default_int_handler:  # a caller's own handler is left alone

                def handler(signum, frame):
                    again, self.pressed = self.pressed, True
                    if self._in_cv or again:
                        signal.default_int_handler(signum, frame)

                signal.signal(signal.SIGINT, handler)
                self._previous = previous
                self._hook = sys.unraisablehook

                def hook(unraisable):
                    if isinstance(unraisable.exc_value, KeyboardInterrupt):
                        self.pressed = True  # the press counts; Python's "Exception ignored" is noise
                    else:
                        self._hook(unraisable)

                sys.unraisablehook = hook
        return self

    def __exit__(self, *exc):
        if self._previous is not None:
            import signal

            signal.signal(signal.SIGINT, self._previous)
            sys.unraisablehook = self._hook
        return False

    def check(self) -> None:
        if self.pressed:
            raise KeyboardInterrupt

    def callback(self, study, trial) -> None:  # an Optuna callback: runs after every trial
        self.check()

    @contextlib.contextmanager
    def interruptible(self):
        """Where a Ctrl-C interrupts at once: the cross-validation of a trial (a press since the last
        trial cuts this one before it starts). Never around a write to the storage: a KeyboardInterrupt
        in the middle of one leaves SQLite locked for the writes that close the trial."""
        self.check()
        self._in_cv = True
        try:
            yield
        finally:
            self._in_cv = False


    @contextlib.contextmanager
    def deferred(self):
        """Inside the cross-validation, a write to the storage (a fold's report to the pruner, a trial's
        attribute) where a press waits until the write is done, then interrupts."""
        was, self._in_cv = self._in_cv, False
        try:
            yield
        finally:
            self._in_cv = was
        if was:
            self.check()


def requeue_interrupted(study, since: int) -> None:
    """Record the trials (numbered ``since`` or later) that Ctrl-C cut, wherever it struck (in the objective
    they carry ``interrupted``; elsewhere Optuna closes them as failed without an error of theirs), and
    enqueue the cut warm-start configurations again, so a resumed run still tries them first."""
    import optuna

    trials = study.get_trials(deepcopy=False)
    cut = {t.number for t in trials if t.number >= since and (
        t.user_attrs.get("interrupted") or (t.state == optuna.trial.TrialState.FAIL and "error" not in t.user_attrs))}
    try:
        study.set_user_attr(CUT_ATTR, sorted(cut_numbers(study) | cut))
    except Exception:  # pragma: no cover - the storage went away with the interrupt
        logger.info("could not record the interrupted trials %s", sorted(cut))
    for t in trials:
        if t.number in cut and t.user_attrs.get("warm_start"):
            fixed = t.system_attrs.get("fixed_params") or t.params
            try:
                study.enqueue_trial(dict(fixed), user_attrs={"warm_start": True,
                                                             "warm_config": t.user_attrs.get("warm_config", "")})
            except Exception:  # pragma: no cover - the storage went away with the interrupt
                logger.info("could not re-enqueue interrupted trial %d", t.number)
