import os
import shutil
from pathlib import Path

import pytest

# copies of ../shared/openml_cache and ../shared/openml_oracles (real OpenML files, BSD-3-Clause), so a
# clean clone tests offline on its own
SHARED = Path(__file__).resolve().parent / "fixtures"
OPENML_CACHE = SHARED / "openml_cache"
ORACLES = SHARED / "openml_oracles"

# tests never load third-party plugins unless they ask for it
os.environ.setdefault("METAREC_DISABLE_PLUGIN_AUTOLOAD", "1")


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
