"""Loading an OpenML dataset (``openml:ID``) from openml's cache or server, leaving openml's process-wide
configuration as it was."""

from __future__ import annotations

import contextlib
import os

from ..exceptions import DataError


def _load_openml(source: str, target: str | None, cache: str | None):
    import openml

    ident = source.split(":", 1)[1]
    try:
        did = int(ident)
    except ValueError:
        raise DataError(f"{source}: an OpenML dataset is written openml:ID with a number, e.g. openml:31") from None
    cache = cache or os.environ.get("METAREC_OPENML_CACHE")
    with _openml_config(cache, os.environ.get("METAREC_OPENML_SERVER")):
        try:
            d = openml.datasets.get_dataset(
                did, download_data=True, download_qualities=False, download_features_meta_data=True
            )
        except Exception as exc:
            where = cache or "openml's default cache"
            raise DataError(
                f"{source}: OpenML dataset {did} is neither in the cache ({where}) nor reachable "
                f"({type(exc).__name__}); download it on a connected machine or pass a local file"
            ) from None
        declared = d.default_target_attribute
        target = target or declared
        if not target:
            raise DataError(f"{source}: the dataset declares no default target; name one with --target (target= in Python)")
        try:
            frame, _, _, _ = d.get_data(target=None, include_row_id=False, include_ignore_attribute=False)
        except Exception as exc:
            raise DataError(f"{source}: OpenML data could not be read ({type(exc).__name__}: {exc})") from None
    return frame, target, d.name, declared, did


@contextlib.contextmanager
def _openml_config(cache: str | None, server: str | None):
    """openml's process-wide settings for one load (the cache, the server, one connection attempt), put back
    afterwards: a library call must not change the openml configuration of the program that calls it."""
    import openml

    config = openml.config
    saved = {"server": config.server, "connection_n_retries": config.connection_n_retries,
             "root": getattr(config, "_root_cache_directory", None)}
    try:
        if cache:
            config.set_root_cache_directory(os.path.expanduser(cache))
        if server:
            config.server = server
        config.connection_n_retries = 1  # offline: fail at once, the message says what to do
        yield
    finally:
        config.server = saved["server"]
        config.connection_n_retries = saved["connection_n_retries"]
        if cache and saved["root"] is not None:
            config.set_root_cache_directory(saved["root"])
