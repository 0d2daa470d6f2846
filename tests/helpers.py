"""Helpers shared by test modules: the fixture paths, running the CLI as the console script does, and an
offline environment for the CLI tests."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

# copies of ../shared/openml_cache and ../shared/openml_oracles (real OpenML files, BSD-3-Clause), so a
# clean clone tests offline on its own
SHARED = Path(__file__).resolve().parent / "fixtures"
OPENML_CACHE = SHARED / "openml_cache"
ORACLES = SHARED / "openml_oracles"


def offline_env(monkeypatch, kb, cache_dir, tmp_path) -> None:
    """``kb`` as the default KB, a meta-model cache at ``cache_dir``, an empty OpenML cache, no network, and
    ``tmp_path`` as the working directory (the CLI test modules share it)."""
    monkeypatch.setenv("METAREC_KB", str(kb))
    monkeypatch.setenv("METAREC_CACHE_DIR", str(cache_dir))
    monkeypatch.setenv("METAREC_OPENML_CACHE", str(tmp_path / "openml_cache"))
    monkeypatch.setenv("METAREC_OPENML_SERVER", "http://127.0.0.1:9/api/v1/xml")  # refused at once
    monkeypatch.chdir(tmp_path)


def run_cli(args: list[str]) -> tuple[int, str, str]:
    """Run the ``metarec`` entry point as the console script does; (exit code, stdout, stderr)."""
    from metarec.cli import main

    runner = CliRunner()
    with runner.isolation() as (out, err, _):
        try:
            main(args)
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        return code, out.getvalue().decode(), err.getvalue().decode()
