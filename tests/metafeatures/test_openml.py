"""The ``openml`` meta-feature group against OpenML's stored qualities, LCDB's table and the spec's edge cases.

Ground truth: ``fixtures/openml_oracles`` (qualities.xml computed by OpenML's engine from that very ARFF) and
LCDB's ``datasets.csv``; the rules are in ``shared/specs/openml-qualities.md``. Expected values in the
edge-case tests are worked out by hand, not with the implementation.
"""

from __future__ import annotations

import csv
import functools
import importlib.util
import math
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from metarec.data import read_arff
from metarec.metafeatures import _weka
from metarec.metafeatures.base import Budget, BudgetExceeded
from metarec.metafeatures.openml import OPENML_QUALITY_NAMES, OpenMLGroup, compute_openml_qualities

ORACLES = Path(__file__).resolve().parents[1] / "fixtures" / "openml_oracles"
if not ORACLES.is_dir():  # pragma: no cover - the shared copy
    ORACLES = Path("/work/shared/openml_oracles")
DATASETS = ("anneal", "balance-scale", "credit-g", "eeg-eye-state")
NS = {"oml": "http://openml.org/openml"}
REL = 1e-9
nan = math.nan

STAT = [f"{s}{k}OfNumericAtts" for k in ("Means", "StdDev", "Kurtosis", "Skewness")
        for s in ("Mean", "Min", "Max", "Quartile1", "Quartile2", "Quartile3")]
ENTROPY_REST = [f"{s}{k}" for k in ("AttributeEntropy", "MutualInformation")
                for s in ("Mean", "Min", "Max", "Quartile1", "Quartile2", "Quartile3")]
ENTROPY_REST += ["EquivalentNumberOfAtts", "MeanNoiseToSignalRatio"]
ENTROPY = ["ClassEntropy"] + ENTROPY_REST
NB = ["NaiveBayesAUC", "NaiveBayesErrRate", "NaiveBayesKappa"]
CLASS = ["MajorityClassSize", "MinorityClassSize", "MinorityClassPercentage"]


def close(a: float, b: float, rel: float = REL) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return abs(a - b) / max(abs(b), 1e-300) <= rel


def cat(values, levels):
    return pd.Categorical(values, categories=levels)


# ------------------------------------------------------------------------------------------ oracles
@functools.lru_cache(maxsize=None)
def _oracle(name: str):
    folder = ORACLES / name
    target, drop = None, []
    for f in ET.parse(folder / "features.xml").getroot().findall("oml:feature", NS):
        fname = f.find("oml:name", NS).text
        flag = {t: (f.find(f"oml:{t}", NS) is not None and f.find(f"oml:{t}", NS).text == "true")
                for t in ("is_target", "is_row_identifier", "is_ignore")}
        if flag["is_row_identifier"] or flag["is_ignore"]:
            drop.append(fname)
        elif flag["is_target"]:
            target = fname
    frame, _ = read_arff(folder / "dataset.arff")
    frame = frame.drop(columns=drop)
    ours = compute_openml_qualities(frame.drop(columns=[target]), frame[target])
    stored = {}
    for q in ET.parse(folder / "qualities.xml").getroot().findall("oml:quality", NS):
        value = q.find("oml:value", NS)
        stored[q.find("oml:name", NS).text] = float(value.text) if value is not None and value.text else nan
    return ours, stored


@pytest.mark.parametrize("quality", OPENML_QUALITY_NAMES)
@pytest.mark.parametrize("dataset", DATASETS)
def test_matches_openml_stored_quality(dataset, quality):
    ours, stored = _oracle(dataset)
    if quality not in stored:
        pytest.skip(f"{quality} is absent from {dataset}'s stored qualities.xml (not an OpenML quality)")
    assert isinstance(ours[quality], float)
    assert close(ours[quality], stored[quality]), (dataset, quality, ours[quality], stored[quality])


def test_oracle_names_absent_from_stored_files():
    for dataset in DATASETS:
        ours, stored = _oracle(dataset)
        assert set(ours) == set(OPENML_QUALITY_NAMES)
        assert [n for n in OPENML_QUALITY_NAMES if n not in stored] == ["NumberOfFeaturesAfterBinarization"]


def _lcdb_csv() -> Path | None:
    spec = importlib.util.find_spec("lcdb")  # never `import lcdb`: it fails to import
    if spec is None or not spec.submodule_search_locations:
        return None
    for loc in spec.submodule_search_locations:
        if (Path(loc) / "datasets.csv").is_file():
            return Path(loc) / "datasets.csv"
    return None


def test_names_are_lcdb_columns_and_credit_g_matches_lcdb():
    path = _lcdb_csv()
    if path is None:
        pytest.skip("lcdb is not installed")
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert tuple(c for c in rows[0] if c not in ("openmlid", "Name")) == OPENML_QUALITY_NAMES
    row = next(r for r in rows if r["openmlid"] == "31")
    ours, _ = _oracle("credit-g")
    assert ours["NumberOfFeaturesAfterBinarization"] == 63.0
    for name in OPENML_QUALITY_NAMES:
        expected = float(row[name]) if row[name] != "" else nan
        assert close(ours[name], expected), (name, ours[name], expected)


# ------------------------------------------------------------------------------------------ edge cases
def test_no_target():
    X = pd.DataFrame({"a": [1.0, 2.0, 4.0, 7.0], "b": cat(["x", "y", "x", None], ["x", "y", "z"])})
    q = compute_openml_qualities(X, None)
    for name in ["NumberOfClasses", "AutoCorrelation", *CLASS, *ENTROPY, *NB]:
        assert math.isnan(q[name]), name
    assert q["NumberOfFeatures"] == 2.0 and q["NumberOfInstances"] == 4.0
    assert q["NumberOfInstancesWithMissingValues"] == 1.0  # with no target every attribute counts
    assert q["MeanMeansOfNumericAtts"] == 3.5  # §4 still computed
    assert q["MaxNominalAttDistinctValues"] == 2.0  # §6 still computed: x, y observed
    assert q["NumberOfBinaryFeatures"] == 0.0  # 3 declared levels


def test_numeric_target():
    X = pd.DataFrame({"a": [1.0, 2.0, 3.0], "c": cat(["x", "y", "x"], ["x", "y"])})
    y = pd.Series([1.0, 3.0, 2.0])
    q = compute_openml_qualities(X, y)
    assert q["NumberOfClasses"] == 0.0
    assert q["NumberOfNumericFeatures"] == 2.0 and q["NumberOfSymbolicFeatures"] == 1.0
    # the target is one of the numeric attributes of §4: means 2 and 2
    assert q["MeanMeansOfNumericAtts"] == 2.0 and q["MaxStdDevOfNumericAtts"] == 1.0
    # AutoCorrelation with |differences|: C = 2 + 1, (N - 1 - C) / (N - 1) = (3 - 1 - 3) / 2
    assert q["AutoCorrelation"] == -0.5
    for name in [*CLASS, *ENTROPY, *NB]:
        assert math.isnan(q[name]), name


def test_numeric_target_with_missing_value_gives_null_autocorrelation():
    q = compute_openml_qualities(pd.DataFrame({"a": [1.0, 2.0, 3.0]}), pd.Series([1.0, nan, 2.0]))
    assert math.isnan(q["AutoCorrelation"])
    assert q["NumberOfMissingValues"] == 1.0 and q["NumberOfInstancesWithMissingValues"] == 0.0


def test_no_numeric_attribute():
    X = pd.DataFrame({"c": cat(["x", "y", "y"], ["x", "y"])})
    q = compute_openml_qualities(X, pd.Series(cat(["a", "b", "a"], ["a", "b"])))
    assert all(math.isnan(q[n]) for n in STAT)
    assert q["NumberOfNumericFeatures"] == 0.0 and q["PercentageOfSymbolicFeatures"] == 100.0


def test_all_missing_nominal_column_and_entropies():
    X = pd.DataFrame({"gone": cat([None] * 4, ["x", "y"]), "c": cat(["x", "y", "x", "y"], ["x", "y"])})
    y = pd.Series(cat(["a", "b", "a", "b"], ["a", "b"]))
    q = compute_openml_qualities(X, y)
    # H(Y) = 1; "gone" maps to its first level: entropy -0.0, MI 0; "c" determines y: entropy 1, MI 1
    assert q["ClassEntropy"] == 1.0
    assert q["MinAttributeEntropy"] == 0.0 and math.copysign(1.0, q["MinAttributeEntropy"]) == -1.0
    assert q["MaxAttributeEntropy"] == 1.0 and q["MeanAttributeEntropy"] == 0.5
    assert q["MinMutualInformation"] == 0.0 and q["MaxMutualInformation"] == 1.0
    assert q["MeanMutualInformation"] == 0.5
    assert q["EquivalentNumberOfAtts"] == 2.0 and q["MeanNoiseToSignalRatio"] == 0.0
    # distinct observed values: gone 0, c 2, target 2
    assert q["MinNominalAttDistinctValues"] == 0.0 and q["MaxNominalAttDistinctValues"] == 2.0
    assert close(q["MeanNominalAttDistinctValues"], 4 / 3, 1e-15)
    assert q["NumberOfMissingValues"] == 4.0 and q["NumberOfInstancesWithMissingValues"] == 4.0
    assert q["NumberOfBinaryFeatures"] == 3.0


def test_missing_values_count_as_first_level_in_entropy():
    X = pd.DataFrame({"c": cat(["x", None, "y", "y"], ["x", "y"])})
    q = compute_openml_qualities(X, pd.Series(cat(["a", "a", "b", "b"], ["a", "b"])))
    # counts after missing -> x: x 2, y 2, so entropy 1 (excluding the missing row would give 0.918...)
    assert q["MeanAttributeEntropy"] == 1.0
    assert q["MeanMutualInformation"] == 1.0  # the missing row joins x with class a: X still determines Y


def test_constant_numeric_column():
    X = pd.DataFrame({"const": [5.0] * 5, "b": [1.0, 2.0, 3.0, 4.0, 10.0]})
    q = compute_openml_qualities(X, None)
    assert q["MinMeansOfNumericAtts"] == 4.0 and q["MaxMeansOfNumericAtts"] == 5.0
    assert q["MeanMeansOfNumericAtts"] == 4.5
    sd_b = math.sqrt(50 / 4)  # deviations -3 -2 -1 0 6: sum of squares 50
    assert q["MinStdDevOfNumericAtts"] == 0.0 and close(q["MaxStdDevOfNumericAtts"], sd_b, 1e-14)
    # only column b enters the skewness / kurtosis lists
    skew_b = 5 / (4 * 3) * 180 / sd_b ** 3  # sum of cubed deviations 180
    kurt_b = 5 * 6 / (4 * 3 * 2) * 1394 / sd_b ** 4 - 3 * 4 ** 2 / (3 * 2)  # sum of 4th powers 1394
    for s in ("Mean", "Min", "Max", "Quartile1", "Quartile2", "Quartile3"):
        assert close(q[f"{s}SkewnessOfNumericAtts"], skew_b, 1e-12)
        assert close(q[f"{s}KurtosisOfNumericAtts"], kurt_b, 1e-12)
    assert close(kurt_b, 3.1520, 1e-4)


def test_too_few_values_for_skewness_and_kurtosis():
    # 3 values: skewness defined (n >= 3), kurtosis not (n < 4) -> kurtosis list empty -> NaN
    q = compute_openml_qualities(pd.DataFrame({"a": [1.0, 2.0, 6.0]}), None)
    assert math.isnan(q["MeanKurtosisOfNumericAtts"])
    # deviations -2 -1 3: sum of squares 14 (var 7), sum of cubes 18
    assert close(q["MeanSkewnessOfNumericAtts"], 3 / (2 * 1) * 18 / 7 ** 1.5, 1e-12)


def test_weibull_percentiles_not_numpy_linear():
    # five constant columns: the Means list is [1, 2, 3, 4, 10]
    X = pd.DataFrame({f"c{v}": [float(v)] * 3 for v in (4, 1, 10, 3, 2)})
    q = compute_openml_qualities(X, None)
    # pos = p (n + 1) / 100: Q1 at 1.5 -> 1 + 0.5 * (2 - 1); Q3 at 4.5 -> 4 + 0.5 * (10 - 4)
    assert q["Quartile1MeansOfNumericAtts"] == 1.5 and q["Quartile2MeansOfNumericAtts"] == 3.0
    assert q["Quartile3MeansOfNumericAtts"] == 7.0
    assert np.percentile([1, 2, 3, 4, 10], 25) == 2.0 and np.percentile([1, 2, 3, 4, 10], 75) == 4.0
    # two values: Q1 position 0.75 < 1 -> min, Q3 position 2.25 >= n -> max
    q = compute_openml_qualities(pd.DataFrame({"a": [1.0] * 2, "b": [2.0] * 2}), None)
    assert (q["Quartile1MeansOfNumericAtts"], q["Quartile2MeansOfNumericAtts"]) == (1.0, 1.5)
    assert q["Quartile3MeansOfNumericAtts"] == 2.0


def test_mutual_information_rounded_to_14_decimals():
    X = pd.DataFrame({"c": cat(["x", "y", "y"], ["x", "y"])})
    q = compute_openml_qualities(X, pd.Series(cat(["a", "a", "b"], ["a", "b"])))
    h_y = -(2 / 3 * math.log2(2 / 3) + 1 / 3 * math.log2(1 / 3))
    raw = h_y - 2 / 3 * 1.0  # group x: pure (entropy 0); group y: one a, one b (entropy 1)
    assert abs(raw - 0.25162916738782) > 1e-15  # rounding matters here
    assert q["MaxMutualInformation"] == 0.25162916738782
    assert q["ClassEntropy"] == pytest.approx(h_y, rel=1e-15)


def test_single_row():
    X = pd.DataFrame({"a": [3.0], "c": cat(["x"], ["x", "y"])})
    q = compute_openml_qualities(X, pd.Series(cat(["k"], ["k", "l"])))
    assert q["AutoCorrelation"] == 1.0 and q["NumberOfClasses"] == 1.0 and q["Dimensionality"] == 3.0
    assert q["MeanMeansOfNumericAtts"] == 3.0 and q["MeanStdDevOfNumericAtts"] == 0.0  # sd = 0 when n = 1
    assert math.isnan(q["MeanSkewnessOfNumericAtts"]) and math.isnan(q["MeanKurtosisOfNumericAtts"])
    assert q["MinorityClassPercentage"] == 100.0
    assert all(math.isnan(q[n]) for n in NB)  # N < 2


def test_one_observed_class_gives_nan_auc():
    X = pd.DataFrame({"c": cat(["x", "y", "x", "y"], ["x", "y"])})
    q = compute_openml_qualities(X, pd.Series(cat(["k"] * 4, ["k", "l"])))
    assert math.isnan(q["NaiveBayesAUC"])  # no negatives: 0 / 0
    # with n training rows of k: score(k) = (n+1)/(n+2) * (n_kv+1)/(n+2) > score(l) = 1/(n+2) * 1/2
    assert q["NaiveBayesErrRate"] == 0.0 and q["NaiveBayesKappa"] == 1.0  # chance agreement 1 -> 1
    assert q["NumberOfClasses"] == 1.0 and q["ClassEntropy"] == 0.0


def test_string_column_makes_naive_bayes_null():
    X = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "s": pd.Series(["p", None, "q", "p"], dtype=object)})
    y = pd.Series(cat(["k", "l", "k", "l"], ["k", "l"]))
    q = compute_openml_qualities(X, y)
    assert all(math.isnan(q[n]) for n in NB)
    assert q["NumberOfFeatures"] == 3.0 and q["NumberOfMissingValues"] == 1.0
    assert q["NumberOfNumericFeatures"] + q["NumberOfSymbolicFeatures"] == 2.0  # STRING is neither
    assert q["NumberOfFeaturesAfterBinarization"] == 3.0  # 1 numeric + 2 distinct strings
    q = compute_openml_qualities(X.astype({"s": "str"}), y)
    assert all(math.isnan(q[n]) for n in NB) and q["NumberOfFeaturesAfterBinarization"] == 3.0
    q = compute_openml_qualities(X[["a"]], y)  # without the STRING column NaiveBayes runs
    assert not any(math.isnan(q[n]) for n in NB)


def test_missing_target_values():
    X = pd.DataFrame({"c": cat(["x", "y", None, "y", "x"], ["x", "y"])})
    y = pd.Series(cat(["a", None, "b", None, "a"], ["a", "b", "c"]))
    q = compute_openml_qualities(X, y)
    assert q["NumberOfClasses"] == 3.0  # a, b and the missing-value group
    assert (q["MajorityClassSize"], q["MinorityClassSize"]) == (2.0, 1.0)
    assert q["MinorityClassPercentage"] == 20.0
    assert q["AutoCorrelation"] == 0.0  # every comparison involving a missing class is a change
    assert q["NumberOfInstancesWithMissingValues"] == 1.0  # the class is not looked at
    assert q["NumberOfMissingValues"] == 3.0
    # entropy: missing class -> a, so counts a 4, b 1
    assert q["ClassEntropy"] == pytest.approx(-(0.8 * math.log2(0.8) + 0.2 * math.log2(0.2)), rel=1e-15)


def test_bool_object_and_datetime_columns():
    X = pd.DataFrame({"t": [True, False, True, True], "d": pd.to_datetime(["1970-01-01", "1970-01-02", None,
                                                                              "1970-01-03"])})
    y = pd.Series(["u", "v", "u", "w"], dtype="str")  # nominal target, levels sorted: u, v, w
    q = compute_openml_qualities(X, y)
    assert q["NumberOfBinaryFeatures"] == 1.0  # bool declares [True, False]; the 3-level target does not count
    assert q["NumberOfSymbolicFeatures"] == 2.0 and q["NumberOfNumericFeatures"] == 1.0
    assert q["MeanMeansOfNumericAtts"] == 86400000.0  # epoch ms of 0, 1 and 2 days
    assert q["NumberOfClasses"] == 3.0 and q["NumberOfFeaturesAfterBinarization"] == 2.0
    assert all(math.isnan(q[n]) for n in NB)  # a date attribute is outside NaiveBayes' capabilities


def test_budget_and_group():
    X = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "c": cat(["x", "y", "x", "y"], ["x", "y"])})
    y = pd.Series(cat(["k", "l", "k", "l"], ["k", "l"]))
    with pytest.raises(BudgetExceeded):
        compute_openml_qualities(X, y, budget=Budget(seconds=0.0))
    group = OpenMLGroup()
    group.validate()
    assert group.name == "openml" and group.feature_names == OPENML_QUALITY_NAMES
    assert len(OPENML_QUALITY_NAMES) == 64 and OPENML_QUALITY_NAMES[-1] == "NumberOfFeaturesAfterBinarization"
    dataset = type("D", (), {"X": X, "y": y})()
    skipped: dict[str, str] = {}
    out = group.compute(dataset, Budget(seconds=0.0), skipped)
    assert out["NumberOfInstances"] == 4.0 and "NumberOfInstances" not in skipped  # first family kept
    assert set(skipped) == {n for n in OPENML_QUALITY_NAMES if math.isnan(out[n])}
    assert set(STAT + ENTROPY + NB) <= set(skipped)
    full = group.compute(dataset, Budget(seconds=None), skipped := {})
    direct = compute_openml_qualities(X, y)
    assert not skipped and all(close(full[n], direct[n], 0.0) for n in OPENML_QUALITY_NAMES)


# ------------------------------------------------------------------------------------------ Weka helpers
class _LiteralRandom:
    """java.util.Random transcribed literally."""

    def __init__(self, seed):
        self.s = (seed ^ 0x5DEECE66D) & ((1 << 48) - 1)

    def next31(self):
        self.s = (self.s * 0x5DEECE66D + 0xB) & ((1 << 48) - 1)
        return self.s >> 17

    def next_int(self, b):
        r = self.next31()
        if b & (b - 1) == 0:
            return (b * r) >> 31
        while r - r % b + b - 1 >= 1 << 31:
            r = self.next31()
        return r % b


def test_java_random_is_exact():
    state = int(_weka.JavaRandom(1).states(1)[0])
    assert ((state >> 16) ^ 0x80000000) - 0x80000000 == -1155869325  # new Random(1).nextInt()
    for bounds in (np.arange(500, 1, -1), np.full(2000, 2 ** 30 + 1), np.array([2 ** 31 - 1, 7, 1, 64] * 50)):
        ref = _LiteralRandom(3)
        expected = [ref.next_int(int(b)) for b in bounds]
        rng = _weka.JavaRandom(3)
        assert rng.next_ints(bounds).tolist() == expected and rng.state == ref.s


def test_randomize_and_stratify_match_literal_weka():
    rs = np.random.default_rng(0)
    for n in list(range(0, 30)) + [257, 1000]:
        ref, rng = _LiteralRandom(1), _weka.JavaRandom(1)
        items = list(rs.permutation(n) + 10)
        expected = list(items)
        for j in range(n - 1, 0, -1):
            k = ref.next_int(j + 1)
            expected[j], expected[k] = expected[k], expected[j]
        assert _weka.randomize(np.array(items), rng).tolist() == expected
        codes = rs.integers(-1, 4, max(n, 1))
        order = list(rs.permutation(len(codes)))
        lit, idx = list(order), 1
        while idx < len(lit):
            pivot = codes[lit[idx - 1]]
            for j in range(idx, len(lit)):
                if codes[lit[j]] == pivot:
                    lit[idx], lit[j] = lit[j], lit[idx]
                    idx += 1
            idx += 1
        assert _weka.stratify(np.array(order), codes).tolist() == lit[0::2] + lit[1::2]
