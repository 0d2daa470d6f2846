"""The Optuna storage of a knowledge-base build: opening it (one readable line when it cannot be opened),
the names of its studies, the trials that carry a result, and Optuna's logging kept quiet while metarec
uses it (and put back afterwards)."""

from __future__ import annotations

import contextlib
from typing import Any, Iterator

from ..exceptions import KnowledgeBaseError

__all__ = ["DRIVER_PACKAGES", "open_storage", "quiet_optuna", "storage_error", "study_name"]


@contextlib.contextmanager
def quiet_optuna() -> Iterator[None]:
    """Optuna logs warnings and errors only inside the block (not a line per study or trial); its verbosity
    is put back afterwards, so a program that uses metarec keeps its own Optuna logging. Also a decorator
    (``@quiet_optuna()``)."""
    import optuna

    before = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(max(before, optuna.logging.WARNING))
    try:
        yield
    finally:
        optuna.logging.set_verbosity(before)


def study_name(dataset_id: str, learner: str) -> str:
    return f"hpo/{dataset_id}/{learner}"


def open_storage(url: str):
    """An Optuna RDB storage (SQLite waits for locks instead of failing) with heartbeats."""
    import time
    import warnings

    import optuna

    kwargs: dict[str, Any] = {}
    if url.startswith("sqlite"):
        kwargs["engine_kwargs"] = {"connect_args": {"timeout": 120}}
    for attempt in range(5):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                with quiet_optuna():
                    return optuna.storages.RDBStorage(url, heartbeat_interval=30, grace_period=120, **kwargs)
        except Exception as exc:
            # two builders creating one new database race on its tables: the loser retries
            if attempt < 4 and type(exc).__name__ in ("IntegrityError", "OperationalError"):
                time.sleep(0.5 * (attempt + 1))
                continue
            raise KnowledgeBaseError(storage_error(url, exc)) from None


#: Python module of a database driver -> the package that provides it.
DRIVER_PACKAGES = {
    "psycopg": "psycopg[binary]", "psycopg2": "psycopg2-binary", "pg8000": "pg8000", "asyncpg": "asyncpg",
    "MySQLdb": "mysqlclient", "pymysql": "PyMySQL", "mysql": "mysql-connector-python", "mariadb": "mariadb",
    "oracledb": "oracledb", "cx_Oracle": "cx_Oracle", "pyodbc": "pyodbc", "pymssql": "pymssql",
}


def storage_error(url: str, exc: BaseException) -> str:
    """One line saying why the Optuna storage ``url`` did not open, and what to do.

    SQLAlchemy appends "(Background on this error at: ...)" on a second line and, for a missing database
    driver, says only "Failed to import DB access module": the line keeps the first line and names the
    driver's package.
    """
    import re

    url = re.sub(r"(://[^:/@]*:)[^@/]*@", r"\1***@", str(url))  # never echo a password
    missing = None
    seen: BaseException | None = exc
    for _ in range(5):  # the ModuleNotFoundError behind optuna's ImportError
        if seen is None:
            break
        if isinstance(seen, ModuleNotFoundError) and seen.name:
            missing = seen.name.split(".")[0]
            break
        seen = seen.__cause__ or seen.__context__
    scheme = url.split(":", 1)[0]
    if missing:
        package = DRIVER_PACKAGES.get(missing, missing)
        return (f"cannot open the Optuna storage {url!r}: its database driver {missing!r} is not installed; "
                f"install it (pip install '{package}') or name an installed driver in the URL "
                f"({scheme.split('+')[0]}+DRIVER://...)")
    lines = [ln.strip() for ln in str(exc).strip().splitlines() if ln.strip()]
    first = lines[0] if lines else ""
    if first.startswith("(") and ") " in first:  # "(sqlite3.OperationalError) unable to open database file"
        first = first.split(") ", 1)[1]
    detail = f"{type(exc).__name__}: {first}" if first else type(exc).__name__
    fix = ("check that the database file's directory exists and is writable" if scheme.startswith("sqlite")
           else "check the URL and that the database server is reachable")
    return f"cannot open the Optuna storage {url!r} ({detail}); {fix}"


def _recorded(study) -> list:
    """Trials that finished with a result (the ones a resume counts and the KB exports)."""
    import optuna

    states = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.FAIL)
    return [t for t in study.get_trials(deepcopy=False, states=states) if "status" in t.user_attrs]


def _storage_holds_work(storage_url: str) -> bool:
    """True when the storage has any stored meta-features or any study of trials."""
    import optuna

    storage = open_storage(storage_url)
    try:
        with quiet_optuna():
            summaries = optuna.get_all_study_summaries(storage, include_best_trial=False)
        for summ in summaries:
            if not summ.study_name.startswith("mf/") or "metafeatures" in summ.user_attrs or summ.n_trials:
                return True
        return False
    finally:
        engine = getattr(storage, "engine", None)
        if engine is not None:
            engine.dispose()
