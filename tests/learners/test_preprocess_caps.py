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
    assert width == CATEGORY_MAX_COLUMNS + 3 + 1  # the capped factor, every colour, the number
    unseen = X.head(2).copy()
    unseen["stamp"] = pd.Categorical(["1999-12-31 23:59"] * 2)  # a level never seen: no column set
    encoded = pre.transform(unseen)
    encoded = encoded.toarray() if hasattr(encoded, "toarray") else encoded
    assert (encoded[:, 1:1 + CATEGORY_MAX_COLUMNS] == 0).all()  # after the number and len(pipe.predict(unseen)) == 2
