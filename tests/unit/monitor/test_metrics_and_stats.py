"""Metrics equal scikit-learn's and p-values equal SciPy's, to 1e-9."""

from __future__ import annotations

import random

import pytest
from scipy import stats as scipy_stats
from sklearn import metrics as sk

from mlops_monitor import metrics, stats


@pytest.mark.parametrize("seed", range(5))
def test_binary_metrics_match_scikit_learn(seed: int) -> None:
    rng = random.Random(seed)
    y_true = [rng.randint(0, 1) for _ in range(500)]
    scores = [round(rng.random(), 2) for _ in range(500)]  # rounded: many ties
    y_pred = [int(s >= 0.5) for s in scores]
    ours = metrics.binary(y_true, y_pred, scores)
    assert ours["accuracy"] == pytest.approx(sk.accuracy_score(y_true, y_pred), abs=1e-9)
    assert ours["precision"] == pytest.approx(sk.precision_score(y_true, y_pred), abs=1e-9)
    assert ours["recall"] == pytest.approx(sk.recall_score(y_true, y_pred), abs=1e-9)
    assert ours["f1"] == pytest.approx(sk.f1_score(y_true, y_pred), abs=1e-9)
    assert ours["auc"] == pytest.approx(sk.roc_auc_score(y_true, scores), abs=1e-9)


def test_no_predicted_positive_gives_zero_precision_as_scikit_learn_does() -> None:
    assert metrics.binary([1, 0, 1], [0, 0, 0])["precision"] == sk.precision_score(
        [1, 0, 1], [0, 0, 0], zero_division=0
    )


@pytest.mark.parametrize("seed", range(5))
def test_multiclass_metrics_match_scikit_learn(seed: int) -> None:
    rng = random.Random(seed)
    labels = ["cat", "dog", "bird", "fish"]
    y_true = [rng.choice(labels) for _ in range(400)]
    y_pred = [t if rng.random() < 0.6 else rng.choice(labels[:3]) for t in y_true]
    ours = metrics.multiclass(y_true, y_pred)
    assert ours["accuracy"] == pytest.approx(sk.accuracy_score(y_true, y_pred), abs=1e-9)
    assert ours["weighted_f1"] == pytest.approx(sk.f1_score(y_true, y_pred, average="weighted"), abs=1e-9)


@pytest.mark.parametrize("seed", range(5))
def test_regression_metrics_match_scikit_learn(seed: int) -> None:
    rng = random.Random(seed)
    y_true = [rng.gauss(50, 10) for _ in range(300)]
    y_pred = [t + rng.gauss(0, 3) for t in y_true]
    ours = metrics.regression(y_true, y_pred)
    assert ours["mae"] == pytest.approx(sk.mean_absolute_error(y_true, y_pred), abs=1e-9)
    assert ours["rmse"] == pytest.approx(sk.mean_squared_error(y_true, y_pred) ** 0.5, abs=1e-9)
    assert ours["r2"] == pytest.approx(sk.r2_score(y_true, y_pred), abs=1e-9)


@pytest.mark.parametrize(("statistic", "dof"), [(0.5, 1), (3.84, 1), (12.0, 3), (40.0, 10), (150.0, 60), (2.0, 30)])
def test_chi_square_tail_matches_scipy(statistic: float, dof: int) -> None:
    assert stats.chi_square_pvalue(statistic, dof) == pytest.approx(scipy_stats.chi2.sf(statistic, dof), abs=1e-9)


@pytest.mark.parametrize("lam", [0.3, 0.5, 0.8, 1.0, 1.36, 2.0, 3.0])
def test_kolmogorov_tail_matches_scipy(lam: float) -> None:
    # With m = n -> infinity the corrected lambda equals sqrt(ne) * D.
    m = n = 10**18
    d = lam / ((m * n / (m + n)) ** 0.5)
    assert stats.ks_pvalue(d, m, n) == pytest.approx(scipy_stats.kstwobign.sf(lam), abs=1e-9)


def test_binned_ks_equals_the_exact_statistic_on_distinct_values() -> None:
    rng = random.Random(5)
    a = [rng.gauss(0, 1) for _ in range(300)]
    b = [rng.gauss(0.3, 1) for _ in range(200)]
    edges = sorted(set(a + b))
    bins_a, bins_b = [0] * (len(edges) + 1), [0] * (len(edges) + 1)
    from mlops_monitor.baseline import bin_index

    for v in a:
        bins_a[bin_index(edges, v)] += 1
    for v in b:
        bins_b[bin_index(edges, v)] += 1
    assert stats.ks_statistic(bins_a, bins_b) == pytest.approx(scipy_stats.ks_2samp(a, b).statistic, abs=1e-12)
