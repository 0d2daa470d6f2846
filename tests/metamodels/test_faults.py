"""Faults of the meta-model cache and files: a corrupt cache entry is rebuilt with a warning the CLI shows; a
truncated LightGBM model file is an error, not a process abort."""

import json

import pytest

import metarec

from ..synthetic_kb import _small_kb


@pytest.fixture(scope="module")
def good_kb(tmp_path_factory):
    return _small_kb(tmp_path_factory.mktemp("metamodel_faults_kb") / "kb")


# -- a corrupt meta-model cache is rebuilt, with a warning the CLI shows --------------------------------------------
@pytest.mark.parametrize("damage", ["garbage metadata", "truncated model file", "emptied entry"])
def test_corrupt_metamodel_cache_is_rebuilt_with_a_warning(damage, good_kb, tmp_path, monkeypatch):
    from metarec.exceptions import MetarecWarning

    from ..helpers import run_cli

    monkeypatch.setenv("METAREC_CACHE_DIR", str(tmp_path / "cache"))
    data = tmp_path / "d.csv"
    data.write_text("a,b,y\n" + "".join(f"{i},{i % 5},{i % 2}\n" for i in range(40)))
    cmd = ["recommend", str(data), "--target", "y", "--kb", str(good_kb), "--json"]
    code, first, err = run_cli(cmd)
    assert code == 0 and "Warning" not in err, err
    (entry,) = [p for p in (tmp_path / "cache" / "metamodels").iterdir()]
    files = sorted(p for p in entry.iterdir() if p.is_file())
    if damage == "garbage metadata":
        (entry / "metamodel.json").write_text("{garbage")
    elif damage == "truncated model file":
        victim = max(files, key=lambda p: p.stat().st_size)
        victim.write_bytes(victim.read_bytes()[: victim.stat().st_size // 3])
    else:
        for f in files:
            f.unlink()
    code, again, err = run_cli(cmd)
    assert code == 0, err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("Warning: meta-model cache ") and "refitting" in lines[0], err
    strip = lambda text: [(r["learner"], round(r["score"], 9)) for r in json.loads(text)["learners"]]  # noqa: E731
    assert strip(again) == strip(first)  # the rebuilt model predicts what the original did
    code, _, err = run_cli(cmd)  # rebuilt for good: no warning the next time
    assert code == 0 and err.strip() == "", err
    # the API: a MetarecWarning (and a logged warning)
    if damage == "garbage metadata":
        (entry / "metamodel.json").write_text("{garbage")
        with pytest.warns(MetarecWarning, match="unreadable .*refitting"):
            metarec.recommend(data, target="y", kb=good_kb)


def test_truncated_lightgbm_model_is_an_error_not_an_abort(tmp_path):
    """LightGBM itself aborts the process on a truncated model file; metarec checks the file first."""
    from metarec.exceptions import MetarecError
    from metarec.metamodels._conformance import make_metamodel_data
    from metarec.metamodels.base import load_metamodel
    from metarec.metamodels.lightgbm_model import LightGBMMetaModel

    X, Y, _, _ = make_metamodel_data(n_datasets=20, random_state=1)
    LightGBMMetaModel().fit(X, Y).save(tmp_path / "m")
    victim = max((tmp_path / "m").glob("*.txt"), key=lambda p: p.stat().st_size)
    victim.write_bytes(victim.read_bytes()[: victim.stat().st_size // 3])
    with pytest.raises(MetarecError, match="not a complete LightGBM model file"):
        load_metamodel(tmp_path / "m")
