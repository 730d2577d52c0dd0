"""A/B test statistics on counts: Wilson intervals and two-proportion tests.

Rates in experiments (click-through, engaged learners, enrolments per impression) are
proportions of counts, often small ones, so the interval is Wilson's score interval rather than
the normal approximation (which goes below 0 and is too narrow near 0). The comparison against
the control is the pooled two-proportion z-test, two-sided; it is the same test as the 2×2
chi-square without continuity correction (z² = χ²).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy.stats import norm

__all__ = ["ProportionTest", "two_proportion_z_test", "wilson_interval"]


def wilson_interval(
    successes: int, trials: int, *, confidence: float = 0.95
) -> tuple[float, float]:
    """Wilson score interval for `successes` out of `trials`; (0, 1) when there are no trials."""
    if trials < 0 or successes < 0 or successes > trials:
        raise ValueError("need 0 <= successes <= trials")
    if trials == 0:
        return 0.0, 1.0
    z = float(norm.ppf(0.5 + confidence / 2))
    p = successes / trials
    denominator = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denominator
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denominator
    # Exact bounds at the edges: floating error must not put 0 successes above 0.
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == trials else min(1.0, centre + half)
    return low, high


@dataclass(frozen=True)
class ProportionTest:
    rate_a: float
    rate_b: float
    lift: float  # rate_b / rate_a − 1; inf when rate_a is 0 and rate_b is not, nan when both 0
    z: float
    p_value: float


def two_proportion_z_test(
    successes_a: int, trials_a: int, successes_b: int, trials_b: int
) -> ProportionTest:
    """Two-sided pooled z-test of b against a (a is the control).

    With no variation at all (both rates 0 or both 1) the test has no evidence either way:
    z = 0 and p = 1.
    """
    for successes, trials in ((successes_a, trials_a), (successes_b, trials_b)):
        if trials <= 0 or successes < 0 or successes > trials:
            raise ValueError("each group needs trials > 0 and 0 <= successes <= trials")
    rate_a, rate_b = successes_a / trials_a, successes_b / trials_b
    pooled = (successes_a + successes_b) / (trials_a + trials_b)
    variance = pooled * (1 - pooled) * (1 / trials_a + 1 / trials_b)
    if variance <= 0:
        z, p_value = 0.0, 1.0
    else:
        z = (rate_b - rate_a) / math.sqrt(variance)
        p_value = float(2 * norm.sf(abs(z)))
    lift = rate_b / rate_a - 1 if rate_a > 0 else (math.inf if rate_b > 0 else math.nan)
    return ProportionTest(rate_a=rate_a, rate_b=rate_b, lift=lift, z=z, p_value=p_value)
