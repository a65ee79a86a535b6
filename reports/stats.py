"""Statistics for reports (SPEC §4, across visits): plain numbers in, plain numbers out."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any


def mean(values: Iterable[float | None]) -> float | None:
    """Return the arithmetic mean of the values that are not None, or None when there are none."""
    kept = [v for v in values if v is not None]
    return sum(kept) / len(kept) if kept else None


def sample_sd(values: Iterable[float | None]) -> float | None:
    """Return the sample standard deviation (n − 1), or None with fewer than two values."""
    kept = [v for v in values if v is not None]
    if len(kept) < 2:
        return None
    centre = sum(kept) / len(kept)
    return math.sqrt(sum((v - centre) ** 2 for v in kept) / (len(kept) - 1))


def _beta_fraction(a: float, b: float, x: float) -> float:
    """Evaluate the continued fraction of the incomplete beta function (modified Lentz)."""
    tiny = 1e-300
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1.0)
    d = 1.0 / (d if abs(d) > tiny else tiny)
    result = d
    for m in range(1, 500):
        for numerator in (
            m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
            -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1)),
        ):
            d = 1.0 + numerator * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + numerator / c
            c = c if abs(c) > tiny else tiny
            result *= c * d
        if abs(c * d - 1.0) < 1e-15:
            break
    return result


def incomplete_beta(a: float, b: float, x: float) -> float:
    """Return the regularized incomplete beta function I_x(a, b)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    # The fraction converges fast only on its own side of the mean; use the symmetry otherwise.
    if x < (a + 1.0) / (a + b + 2.0):
        return math.exp(log_front) * _beta_fraction(a, b, x) / a
    return 1.0 - math.exp(log_front) * _beta_fraction(b, a, 1.0 - x) / b


def t_cdf(t: float, df: float) -> float:
    """Return P(T ≤ t) for Student's t with ``df`` degrees of freedom."""
    tail = 0.5 * incomplete_beta(df / 2.0, 0.5, df / (df + t * t))
    return 1.0 - tail if t >= 0 else tail


@lru_cache(maxsize=1024)
def t_quantile(p: float, df: float) -> float:
    """Return the ``p`` quantile of Student's t with ``df`` degrees of freedom (bisection on the CDF).

    Each call costs about 2 ms, and a region report asks for one per branch with the same few
    ``df`` values (visits − 1), so results are kept.
    """
    if not 0.0 < p < 1.0:
        raise ValueError("p must lie strictly between 0 and 1")
    if df <= 0:
        raise ValueError("df must be positive")
    if p < 0.5:
        return -t_quantile(1.0 - p, df)
    if p == 0.5:
        return 0.0
    low, high = 0.0, 1.0
    while t_cdf(high, df) < p:
        low, high = high, high * 2.0
    for _ in range(200):
        middle = (low + high) / 2.0
        if t_cdf(middle, df) < p:
            low = middle
        else:
            high = middle
        if high - low < 1e-12 * max(1.0, high):
            break
    return (low + high) / 2.0


def t_interval(values: Iterable[float | None], level: float = 0.95,
               bounds: tuple[float, float] | None = None) -> tuple[float, float] | None:
    """Return the Student's t confidence interval of the mean, or None with fewer than two values.

    ``bounds`` clips the interval to the range the values can take (a score can't pass 100 %).
    """
    kept = [v for v in values if v is not None]
    n = len(kept)
    if n < 2:
        return None
    centre = sum(kept) / n
    half = t_quantile(0.5 + level / 2.0, n - 1) * sample_sd(kept) / math.sqrt(n)
    low, high = centre - half, centre + half
    if bounds is not None:
        low, high = max(bounds[0], low), min(bounds[1], high)
    return low, high


def summary(values: Iterable[float | None], bounds: tuple[float, float] | None = None) -> dict[str, Any]:
    """Return ``score``, ``n``, ``sd``, ``ci_low`` and ``ci_high`` of a list of visit scores."""
    kept = [v for v in values if v is not None]
    interval = t_interval(kept, bounds=bounds)
    return {
        "score": mean(kept),
        "n": len(kept),
        "sd": sample_sd(kept),
        "ci_low": interval[0] if interval else None,
        "ci_high": interval[1] if interval else None,
    }


def branch_weighted(branch_scores: Mapping[Any, float | None] | Iterable[float | None]) -> float | None:
    """Average per-branch scores so that each branch weighs the same, however many visits it had."""
    values = branch_scores.values() if isinstance(branch_scores, Mapping) else branch_scores
    return mean(values)


def change(current: float | None, previous: float | None) -> float | None:
    """Return the change against the previous period (in the values' unit), or None when either is missing."""
    if current is None or previous is None:
        return None
    return current - previous


def rank(scores: Iterable[float | None]) -> list[int | None]:
    """Rank scores best first, ties sharing a rank (1, 2, 2, 4); None (no data) gets no rank."""
    values = list(scores)
    ordered = sorted((v for v in values if v is not None), reverse=True)
    first = {}
    for position, value in enumerate(ordered, start=1):
        first.setdefault(value, position)
    return [None if v is None else first[v] for v in values]
