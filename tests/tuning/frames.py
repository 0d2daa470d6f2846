"""Small data frames of the tuning tests: classification with any classes, and a linear regression."""

from __future__ import annotations

import numpy as np
import pandas as pd


def _clf(seed: int, n: int = 60, classes=("p", "q")) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    y = np.asarray(classes)[(np.digitize(X[:, 0], np.quantile(X[:, 0], np.linspace(0, 1, len(classes) + 1)[1:-1])))]
    return pd.DataFrame(X, columns=list("abc")).assign(y=y)


def _reg(seed: int = 5, n: int = 60) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    return pd.DataFrame(X, columns=list("abc")).assign(y=X[:, 0] * 3 + rng.normal(size=n))
