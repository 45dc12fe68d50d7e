"""Two-sample tests on binned data, with their p-values, in plain Python.

Numeric features are compared as histograms over bin edges taken from the baseline's
quantiles; the Kolmogorov-Smirnov statistic is then the largest gap between the two
cumulative distributions at those edges. Binning can only hide a gap, never create one, so
the test stays conservative. Categorical features use a chi-square test of homogeneity on
the 2 x k table of baseline and window counts, so uncertainty in both samples is counted.
"""

from __future__ import annotations

import math
from collections.abc import Sequence


def ks_statistic(baseline: Sequence[int], window: Sequence[int]) -> float:
    """Largest distance between the two empirical CDFs, evaluated at every bin edge."""
    m, n = sum(baseline), sum(window)
    if not m or not n:
        return 0.0
    gap = 0.0
    cum_b = cum_w = 0
    for b, w in zip(baseline, window, strict=True):
        cum_b += b
        cum_w += w
        gap = max(gap, abs(cum_b / m - cum_w / n))
    return gap


def ks_pvalue(statistic: float, m: int, n: int) -> float:
    """Asymptotic p-value of the two-sample KS statistic (Kolmogorov distribution).

    Uses the effective sample size ``m n / (m + n)`` with Stephens' small-sample correction.
    """
    if statistic <= 0 or not m or not n:
        return 1.0
    effective = m * n / (m + n)
    root = math.sqrt(effective)
    lam = (root + 0.12 + 0.11 / root) * statistic
    if lam < 0.2:
        return 1.0
    total = 0.0
    for j in range(1, 101):
        term = 2 * (-1) ** (j - 1) * math.exp(-2 * j * j * lam * lam)
        total += term
        if abs(term) < 1e-12:
            break
    return min(1.0, max(0.0, total))


def chi_square_homogeneity(baseline: Sequence[int], window: Sequence[int]) -> tuple[float, int]:
    """Chi-square statistic and degrees of freedom of the 2 x k table (empty columns dropped)."""
    m, n = sum(baseline), sum(window)
    if not m or not n:
        return 0.0, 0
    total = m + n
    statistic = 0.0
    columns = 0
    for b, w in zip(baseline, window, strict=True):
        column = b + w
        if not column:
            continue
        columns += 1
        expected_b, expected_w = m * column / total, n * column / total
        statistic += (b - expected_b) ** 2 / expected_b + (w - expected_w) ** 2 / expected_w
    return statistic, max(columns - 1, 0)


def chi_square_pvalue(statistic: float, dof: int) -> float:
    """Upper tail of the chi-square distribution: Q(dof/2, statistic/2)."""
    if dof <= 0 or statistic <= 0:
        return 1.0
    return regularized_gamma_q(dof / 2.0, statistic / 2.0)


def regularized_gamma_q(a: float, x: float) -> float:
    """Q(a, x) = Gamma(a, x) / Gamma(a): a series below a + 1, a continued fraction above."""
    if x <= 0:
        return 1.0
    log_prefix = -x + a * math.log(x) - math.lgamma(a)
    if x < a + 1:
        term = total = 1.0 / a
        k = a
        for _ in range(10_000):
            k += 1
            term *= x / k
            total += term
            if abs(term) < abs(total) * 1e-15:
                break
        return max(0.0, 1.0 - total * math.exp(log_prefix))
    # Lentz's method for the continued fraction of Gamma(a, x).
    tiny = 1e-300
    b = x + 1 - a
    c = 1 / tiny
    d = 1 / b
    h = d
    for i in range(1, 10_000):
        an = -i * (i - a)
        b += 2
        d = an * d + b
        d = tiny if abs(d) < tiny else d
        c = b + an / c
        c = tiny if abs(c) < tiny else c
        d = 1 / d
        delta = d * c
        h *= delta
        if abs(delta - 1) < 1e-15:
            break
    return min(1.0, math.exp(log_prefix) * h)
