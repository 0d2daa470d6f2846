import os
import shutil

import pytest

from .helpers import OPENML_CACHE

# tests never load third-party plugins unless they ask for it
os.environ.setdefault("METAREC_DISABLE_PLUGIN_AUTOLOAD", "1")
# nor reuse meta-features another test computed (tests that change a group at run time would get stale
# values); the cache's own tests turn it on
os.environ.setdefault("METAREC_METAFEATURE_CACHE", "0")


@pytest.fixture
def openml_cache(tmp_path, monkeypatch):
    """A private copy of the real OpenML cache fixture (openml writes into its cache), test server."""
    dst = tmp_path / "openml_cache"
    shutil.copytree(OPENML_CACHE, dst)
    monkeypatch.setenv("METAREC_OPENML_CACHE", str(dst))
    monkeypatch.setenv("METAREC_OPENML_SERVER", "https://test.openml.org/api/v1/xml")
    return dst


@pytest.fixture
def fresh_host():
    """Run a test against a freshly loaded plugin host and restore the process-wide one afterwards."""
    from metarec import plugins

    old = plugins._HOST
    plugins.reset_plugin_host(None)
    yield plugins
    plugins.reset_plugin_host(old)
