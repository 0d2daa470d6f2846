"""A study's identity: the data's fingerprint, the default study name, the spec a study records, opening it."""

from __future__ import annotations

import hashlib
import json
import warnings

from ..data.dataset import data_fingerprint
from ..exceptions import MetarecError, MetarecWarning


def default_study_name(ds, metric: str, learner_names: list[str], cv: int | None = None,
                       random_state: int | None = None, data_hash: str | None = None) -> str:
    """``metarec-<name>-<target>-<hash>``: the hash covers the data's content, task, metric, learners, CV
    folds and seed, so only the same command on the same data resumes the same study."""
    data_hash = data_hash or data_fingerprint(ds)
    key = json.dumps([ds.source, ds.target, ds.task_type, metric, sorted(learner_names), ds.n_rows, data_hash,
                      cv, random_state])
    return f"metarec-{ds.name}-{ds.target}-{hashlib.sha256(key.encode()).hexdigest()[:8]}"


def study_spec(ds, metric: str, learners: list[str], cv: int, random_state: int | None,
               data_hash: str | None = None) -> dict:
    """What a study is made for (recorded in it; see :func:`check_study`)."""
    return {"data": data_hash or data_fingerprint(ds), "target": str(ds.target), "task_type": ds.task_type,
            "metric": metric, "learners": list(learners), "cv": int(cv),
            "random_state": None if random_state is None else int(random_state)}


def open_study(study_name: str, storage: str | None, random_state: int | None):
    """Create the study, or load it when it exists; a storage that does not open is one MetarecError line."""
    import optuna

    try:
        return optuna.create_study(study_name=study_name, storage=storage, direction="maximize",
                                   sampler=optuna.samplers.TPESampler(seed=random_state), load_if_exists=True)
    except Exception as exc:
        from ..kb.storage import storage_error  # one line: first line only, a missing driver named

        raise MetarecError(storage_error(str(storage), exc)) from None


#: the study user attribute that records what a study was made for (see :func:`check_study`)
SPEC_ATTR = "metarec_spec"
_SPEC_LABELS = {"data": "data", "target": "target", "task_type": "task", "metric": "metric",
                "learners": "learners", "cv": "cv folds", "random_state": "seed"}


def check_study(study, spec: dict, storage: str | None) -> list[str]:
    """Record ``spec`` in a new study, or check that a resumed one was made for the same ``spec``.

    Returns the learners in the order the study knows them (Optuna's categorical choice must not change
    order). Raises a one-line :class:`MetarecError` naming what differs; a study made by an older version
    (no recorded spec) is resumed with a warning unless its trials chose among other learners.
    """
    name = study.study_name
    where = f"study {name!r}" + (f" in {storage}" if storage else "")
    fix = "pass a new --study-name or another --storage (study_name= / storage= in Python)"
    learners = list(spec["learners"])
    recorded = study.user_attrs.get(SPEC_ATTR)
    trials = study.get_trials(deepcopy=False)
    if recorded is None and not trials:
        study.set_user_attr(SPEC_ATTR, spec)
        return learners
    if recorded is None:  # made before studies recorded their spec: only the learner choice can be checked
        for t in trials:
            dist = t.distributions.get("learner")
            if dist is not None and set(dist.choices) != set(learners):
                raise MetarecError(f"{where} was made for other learners ({','.join(map(str, dist.choices))} vs "
                                   f"{','.join(learners)} now); {fix}")
            if dist is not None:
                learners = [str(c) for c in dist.choices]
                break
        warnings.warn(f"{where} was made by an older metarec that did not record its data, metric and CV; "
                      f"resuming it unchecked (from now on it records this run's)", MetarecWarning, stacklevel=3)
        study.set_user_attr(SPEC_ATTR, {**spec, "learners": learners})
        return learners
    diffs = []
    for key, label in _SPEC_LABELS.items():
        before, now = recorded.get(key), spec.get(key)
        if key == "learners":
            if set(before or []) != set(now):
                diffs.append(f"learners {','.join(before or [])} there, {','.join(now)} now")
        elif key == "data":
            if before != now:
                diffs.append("other data: the rows or values differ")
        elif before != now:
            diffs.append(f"{label} {before} there, {now} now")
    if diffs:
        raise MetarecError(f"{where} was made for another run ({'; '.join(diffs)}); {fix}")
    return list(recorded["learners"])
