"""The learner contract.

A :class:`Learner` builds a *complete* scikit-learn :class:`~sklearn.pipeline.Pipeline` for a config:
the preprocessing the model needs (imputation, one-hot encoding of categoricals, scaling where the model
needs it) followed by the estimator. Columns are routed by dtype at fit time (``category``, ``object``
and ``bool`` are categorical; numbers are numeric), so a pipeline works on any :class:`pandas.DataFrame`
that :mod:`metarec.data` produces.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from ..data.columns import CATEGORY_MAX_COLUMNS, TEXT_MAX_CATEGORIES, TEXT_MIN_FREQUENCY
from ..exceptions import PluginError
from ..records import LearnerBase

CLASSIFICATION = "classification"
REGRESSION = "regression"
TASK_TYPES = (CLASSIFICATION, REGRESSION)

CATEGORICAL_DTYPES = ["category", "object", "bool", "string"]


@dataclass(frozen=True)
class Learner(LearnerBase):
    """A model family that metarec can recommend and tune.

    Parameters
    ----------
    name : str
        Stable key of knowledge-base rows (renaming is a KB migration).
    task_types : tuple of str
        ``("classification",)``, ``("regression",)`` or both.
    estimator : callable
        ``estimator(config: dict, random_state: int | None) -> sklearn estimator`` (the final step).
    search_space : callable
        ``search_space(trial: optuna.Trial) -> dict``: samples a config. Parameter names are used as is
        in ``trial.suggest_*``; :meth:`suggest` prefixes them with the learner name so that several
        learners can share one study (conditional spaces).
    default_config : dict
        The config used when nothing better is known.
    scale : bool
        Whether numeric columns are standardised before the estimator.
    dense : bool
        Whether the estimator needs a dense matrix.
    nonnegative : bool
        Whether the estimator needs non-negative inputs (min-max scaling instead of standardising).
    lcdb_name : str or None
        The learner's name in the LCDB learning-curve database, if it has one.
    description : str
        One or two sentences, including how it differs from the LCDB original where it does.
    """

    name: str
    task_types: tuple[str, ...]
    estimator: Callable[[dict, int | None], Any]
    search_space: Callable[[Any], dict]
    default_config: Mapping[str, Any] = field(default_factory=dict)
    scale: bool = False
    dense: bool = False
    nonnegative: bool = False
    lcdb_name: str | None = None
    family: str = ""
    description: str = ""

    def validate(self) -> None:
        if not self.name or not isinstance(self.name, str):
            raise PluginError("a learner needs a non-empty string name")
        bad = [t for t in self.task_types if t not in TASK_TYPES]
        if not self.task_types or bad:
            raise PluginError(
                f"learner {self.name!r}: task_types must be a non-empty subset of {TASK_TYPES}, got {self.task_types!r}"
            )
        if not callable(self.estimator) or not callable(self.search_space):
            raise PluginError(f"learner {self.name!r}: estimator and search_space must be callable")

    def make_pipeline(self, config: Mapping[str, Any] | None = None, random_state: int | None = 0, typer: Any = None):
        """A fresh, unfitted pipeline (preprocessing + estimator) for ``config`` (default when None).

        Free-text columns are one-hot encoded with a cap (``TEXT_MAX_CATEGORIES``, ``TEXT_MIN_FREQUENCY``).
        ``typer`` (a :class:`metarec.coltypes.ColumnTyper`) becomes a first step ``"types"``, so that the
        pipeline accepts raw data as it was before loading typed it.
        """
        from sklearn.pipeline import Pipeline

        cfg = dict(self.default_config)
        if config:
            cfg.update(config)
        target = "continuous" if CLASSIFICATION not in self.task_types else "auto"
        pre = make_preprocessor(scale=self.scale, dense=self.dense, nonnegative=self.nonnegative,
                                max_text_categories=TEXT_MAX_CATEGORIES, target_type=target)
        steps = [("preprocess", pre), ("model", self.estimator(cfg, random_state))]
        if typer is not None:
            steps.insert(0, ("types", typer))
        return Pipeline(steps)

    def suggest(self, trial: Any, prefix: bool = False) -> dict:
        """Sample a config from the search space with an Optuna ``trial``.

        With ``prefix=True`` parameter names are namespaced as ``"<learner>:<param>"`` in the trial (so
        several learners can share one study); the returned config always has plain names.
        """
        if not prefix:
            return dict(self.search_space(trial))
        return dict(self.search_space(_PrefixedTrial(trial, self.name + ":")))

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "task_types": list(self.task_types),
            "lcdb_name": self.lcdb_name,
            "family": self.family,
            "description": self.description,
            "default_config": dict(self.default_config),
        }


class _PrefixedTrial:
    """Wrap an Optuna trial so ``suggest_*`` names get a prefix."""

    def __init__(self, trial: Any, prefix: str):
        self._trial = trial
        self._prefix = prefix

    def __getattr__(self, attr: str):
        fn = getattr(self._trial, attr)
        if not attr.startswith("suggest_"):
            return fn

        def wrapped(name, *args, **kwargs):
            return fn(self._prefix + name, *args, **kwargs)

        return wrapped


def make_preprocessor(scale: bool = False, dense: bool = False, nonnegative: bool = False,
                      max_text_categories: int | None = None, target_type: str | None = None):
    """Impute, one-hot encode categoricals and (optionally) scale numerics, routed by dtype.

    Numeric columns: median imputation (with missing indicators dropped to keep the shape stable), then
    standardisation (``scale``) or min-max scaling (``nonnegative``). Categorical columns (``category``,
    ``object``, ``bool``): most-frequent imputation and one-hot encoding that ignores unseen levels.
    With ``max_text_categories`` (what the learners use), a categorical column with more than
    ``CATEGORY_MAX_COLUMNS`` levels gets that many columns (its least frequent levels share one), and free-text
    columns (``object``, ``string``) are encoded as at most ``max_text_categories`` columns: values seen fewer than ``TEXT_MIN_FREQUENCY`` times, and all but
    the most frequent ones, share one "infrequent" column, which also takes unseen values. With
    ``target_type`` too (``"auto"`` for a classifier, ``"continuous"`` for a regressor: what the learners use),
    each column past its cap is also target encoded (scikit-learn's cross-fitted
    :class:`~sklearn.preprocessing.TargetEncoder`, one column per class past two, scaled as the numbers are):
    the levels the cap lumps together (a country among 170, an event's time stamp) keep what they say about the
    target. Without ``max_text_categories`` (what the landmarker meta-features use, as when the knowledge base
    was built) every value gets a column.
    """
    import numpy as np
    from sklearn.compose import ColumnTransformer, make_column_selector
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import FunctionTransformer, MinMaxScaler, OneHotEncoder, StandardScaler

    num_steps: list = [("impute", SimpleImputer(strategy="median", keep_empty_features=True))]
    scaler = MinMaxScaler(clip=True) if nonnegative else StandardScaler() if scale else None
    if scaler is not None:
        num_steps.append(("scale", scaler))

    def cat_steps(encoder):
        return [
            ("to_str", FunctionTransformer(_categoricals_as_str, feature_names_out="one-to-one")),
            ("impute", SimpleImputer(strategy="constant", fill_value="__missing__", keep_empty_features=True)),
            ("onehot", encoder),
        ]

    onehot = OneHotEncoder(handle_unknown="ignore", sparse_output=not dense, dtype=np.float64, min_frequency=None)
    transformers = [("num", Pipeline(num_steps), make_column_selector(dtype_include="number"))]
    if max_text_categories is None:
        transformers.append(("cat", Pipeline(cat_steps(onehot)), make_column_selector(dtype_include=CATEGORICAL_DTYPES)))
    else:
        capped = OneHotEncoder(handle_unknown="infrequent_if_exist", sparse_output=not dense, dtype=np.float64,
                               min_frequency=TEXT_MIN_FREQUENCY, max_categories=int(max_text_categories))
        many = OneHotEncoder(handle_unknown="ignore", sparse_output=not dense, dtype=np.float64,
                             max_categories=CATEGORY_MAX_COLUMNS)
        transformers += [
            ("cat", Pipeline(cat_steps(many)), make_column_selector(dtype_include=["category", "bool"])),
            ("text", Pipeline(cat_steps(capped)), make_column_selector(dtype_include=["object", "string"])),
        ]
        if target_type is not None:
            from sklearn.base import clone
            from sklearn.preprocessing import TargetEncoder

            steps = cat_steps(TargetEncoder(target_type=target_type, cv=CodeFolds(target_type == "continuous")))
            if scaler is not None:
                steps.append(("scale", clone(scaler)))
            transformers.append(("target", Pipeline(steps), ManyLevels(int(max_text_categories))))
    return ColumnTransformer(transformers, remainder="drop", sparse_threshold=0.0 if dense else 0.3)


class CodeFolds:
    """The target encoder's cross-fitting folds: 5, shuffled with seed 0, stratified for a class target unless
    every class has fewer than 5 rows (where stratified folds cannot be made)."""

    n_splits = 5

    def __init__(self, continuous: bool):
        self.continuous = continuous

    def get_n_splits(self, X=None, y=None, groups=None) -> int:
        return self.n_splits

    def split(self, X, y=None, groups=None):
        import numpy as np
        from sklearn.model_selection import KFold, StratifiedKFold

        stratify = not self.continuous and np.unique(y, return_counts=True)[1].max() >= self.n_splits
        folds = (StratifiedKFold if stratify else KFold)(self.n_splits, shuffle=True, random_state=0)
        return folds.split(X, y)


class ManyLevels:
    """Select the columns past their one-hot cap (a :class:`~sklearn.compose.ColumnTransformer` selector).

    A ``category`` / ``bool`` column with more than ``CATEGORY_MAX_COLUMNS`` levels seen, or an ``object`` /
    ``string`` column with more than ``max_text`` distinct values, counted on the data the transformer is fit on.
    """

    def __init__(self, max_text: int):
        self.max_text = max_text

    def __call__(self, X) -> list:
        from sklearn.compose import make_column_selector

        declared = set(make_column_selector(dtype_include=["category", "bool"])(X))
        text = make_column_selector(dtype_include=["object", "string"])(X)
        return [c for c in X.columns if (c in declared and X[c].nunique() > CATEGORY_MAX_COLUMNS)
                or (c in text and X[c].nunique() > self.max_text)]


def _categoricals_as_str(X):
    """Categorical columns as object arrays of strings, missing kept as NaN (for the imputer)."""
    import numpy as np
    import pandas as pd

    df = pd.DataFrame(X)
    is_cat = [isinstance(t, pd.CategoricalDtype) for t in df.dtypes]
    if not any(is_cat):
        return _values_as_str(df)
    # a category column: str() of each level once, then taken by the codes (-1, missing, takes the NaN)
    other = _values_as_str(df.iloc[:, [j for j, c in enumerate(is_cat) if not c]])
    columns, k = {}, 0
    for j, c in enumerate(is_cat):
        if c:
            col = df.iloc[:, j]
            levels = np.array([str(v) for v in col.cat.categories] + [np.nan], dtype=object)
            columns[j] = levels[np.asarray(col.cat.codes)]
        else:
            columns[j] = other.iloc[:, k].to_numpy()
            k += 1
    out = pd.DataFrame(columns, index=df.index)
    out.columns = df.columns
    return out.astype(object)


def _values_as_str(df):
    import numpy as np

    out = df.astype(object).where(df.notna(), np.nan)
    out = out.map(lambda v: v if (isinstance(v, float) and v != v) else str(v))
    return out.astype(object)  # an all-missing column must stay object for the string imputer
