"""The built-in meta-feature groups, registered through the same hook as third-party plugins.

Groups are registered in this order, which is also the order of their columns: ``openml`` (OpenML's
data qualities), ``statistical`` (``stat_*``), ``landmarkers`` (``lm_*``), ``subsample`` (``sub_*``,
learners' accuracy on a small sample, the LCDB part's learning-curve points). Nothing heavy is imported
here; the groups import numpy, pandas and scikit-learn inside ``compute``.
"""

from __future__ import annotations

from ..hookspecs import hookimpl


@hookimpl
def register_metafeatures(register):
    from .landmarkers import LandmarkerGroup
    from .statistical import StatisticalGroup
    from .subsample import SubsampleGroup

    try:
        from .openml import OpenMLGroup
    except Exception as exc:  # reported by the plugin host; the other groups still register
        openml_error: Exception | None = exc
    else:
        openml_error = None
        register(OpenMLGroup())
    register(StatisticalGroup())
    register(LandmarkerGroup())
    register(SubsampleGroup())
    if openml_error is not None:
        raise openml_error
