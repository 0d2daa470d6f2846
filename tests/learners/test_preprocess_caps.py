"""A declared categorical column with thousands of levels does not become thousands of columns."""

import numpy as np
import pandas as pd

from metarec.data.columns import CATEGORY_MAX_COLUMNS
from metarec.learners import get_learner


def test_a_factor_with_many_levels_is_capped_and_a_small_one_is_not():
    rng = np.random.default_rng(0)
    n = 3000
    X = pd.DataFrame({
        "stamp": pd.Categorical([f"2020-01-01 {i // 60:02d}:{i % 60:02d}" for i in range(n)]),  # 3000 levels
        "colour": pd.Categorical(rng.choice(["red", "green", "blue"], n)),
        "x": rng.normal(size=n),
    })
    y = (X["x"] > 0).map({True: "a", False: "b"})
    pipe = get_learner("hist_gradient_boosting").make_pipeline(None).fit(X, y)
    pre = pipe.named_steps["preprocess"]
    width = pre.transform(X.head()).shape[1]
    assert width == CATEGORY_MAX_COLUMNS + 3 + 1 + 1  # the capped factor, every colour, the number, its target code
    unseen = X.head(2).copy()
    unseen["stamp"] = pd.Categorical(["1999-12-31 23:59"] * 2)  # a level never seen: no column set
    encoded = pre.transform(unseen)
    encoded = encoded.toarray() if hasattr(encoded, "toarray") else encoded
    assert (encoded[:, 1:1 + CATEGORY_MAX_COLUMNS] == 0).all()  # after the number and len(pipe.predict(unseen)) == 2


def _groups(n_rows=3000, n_groups=500, seed=0):
    """A factor of ``n_groups`` levels whose level decides the class: most levels fall past the one-hot cap."""
    rng = np.random.default_rng(seed)
    g = rng.integers(0, n_groups, n_rows)
    side = rng.integers(0, 2, n_groups)
    X = pd.DataFrame({"group": pd.Categorical([f"g{v}" for v in g]), "x": rng.normal(size=n_rows)})
    return X, pd.Series(np.where(side[g] == 1, "a", "b")), g


def test_the_levels_past_the_cap_keep_what_they_say_about_the_target():
    from sklearn.model_selection import cross_val_score

    import metarec.learners.base as base

    X, y, _ = _groups()
    for name in ("logistic_regression", "random_forest", "multinomial_nb"):
        learner = get_learner(name)
        with_code = cross_val_score(learner.make_pipeline(), X, y, cv=3).mean()
        assert with_code > 0.95, (name, with_code)
    # without the target code only the 63 most frequent levels are told apart: far from it
    onehot_only = base.make_preprocessor(scale=True, max_text_categories=base.TEXT_MAX_CATEGORIES)
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    assert cross_val_score(make_pipeline(onehot_only, LogisticRegression()), X, y, cv=3).mean() < 0.8


def test_target_codes_are_cross_fitted_per_class_and_continuous_for_a_regressor():
    X, y, g = _groups(seed=1)
    y3 = pd.Series([f"c{v % 3}" for v in g])
    pre = get_learner("random_forest").make_pipeline().fit(X, y3).named_steps["preprocess"]
    assert pre.transform(X.head()).shape[1] == 1 + CATEGORY_MAX_COLUMNS + 3  # one code per class past two
    # an integer-valued regression target is one continuous code, not a class per value
    yr = pd.Series(g % 7)
    pre = get_learner("ridge_regressor").make_pipeline().fit(X, yr).named_steps["preprocess"]
    codes = pre.named_transformers_["target"].named_steps["onehot"]
    assert codes.target_type_ == "continuous" and pre.transform(X.head()).shape[1] == 1 + CATEGORY_MAX_COLUMNS + 1
    # cross-fitted: a training row's code does not come from its own target (a level seen once codes to the mean)
    Xs = pd.DataFrame({"id": pd.Categorical([f"r{i}" for i in range(400)]), "x": np.zeros(400)})
    ys = pd.Series(np.r_[np.zeros(200), np.ones(200)])
    pipe = get_learner("ridge_regressor").make_pipeline().fit(Xs, ys)
    train_codes = pipe.named_steps["preprocess"].named_transformers_["target"].fit_transform(Xs[["id"]], ys)
    assert abs(np.corrcoef(np.asarray(train_codes)[:, 0], ys)[0, 1]) < 0.5  # a leak would be 1
    # unseen and missing levels are coded, a model saved with them still predicts
    unseen = X.head(3).copy()
    unseen["group"] = pd.Categorical(["never-seen", None, "g1"])
    assert len(get_learner("lightgbm").make_pipeline().fit(X, y).predict(unseen)) == 3


def test_a_small_table_with_many_small_classes_and_an_id_column_still_fits():
    rng = np.random.default_rng(2)
    X = pd.DataFrame({"id": [f"row{i}" for i in range(24)], "x": rng.normal(size=24)})
    y = pd.Series([f"c{i % 6}" for i in range(24)])  # 6 classes of 4 rows: fewer than the encoder's 5 folds
    assert len(get_learner("logistic_regression").make_pipeline().fit(X, y).predict(X)) == 24
