import math

import pytest
from scipy.stats import chi2_contingency

from recommendations.engine import two_proportion_z_test, wilson_interval


def test_wilson_interval_on_known_counts():
    low, high = wilson_interval(10, 100)
    assert low == pytest.approx(0.05523, abs=1e-5)
    assert high == pytest.approx(0.17437, abs=1e-5)
    low, high = wilson_interval(81, 263, confidence=0.95)
    assert (round(low, 4), round(high, 4)) == (0.2553, 0.3662)


def test_wilson_interval_edges_are_exact():
    assert wilson_interval(0, 0) == (0.0, 1.0)
    low, high = wilson_interval(0, 20)
    assert low == 0.0
    assert high == pytest.approx(0.16113, abs=1e-5)
    low, high = wilson_interval(20, 20)
    assert high == 1.0
    assert low == pytest.approx(1 - 0.16113, abs=1e-5)


@pytest.mark.parametrize(("successes", "trials"), [(-1, 10), (11, 10), (0, -1)])
def test_wilson_interval_refuses_impossible_counts(successes, trials):
    with pytest.raises(ValueError):
        wilson_interval(successes, trials)


def test_z_test_on_known_counts():
    test = two_proportion_z_test(100, 1000, 130, 1000)
    assert test.rate_a == 0.1
    assert test.rate_b == 0.13
    assert test.lift == pytest.approx(0.3)
    assert test.z == pytest.approx(2.10274, abs=1e-5)
    assert test.p_value == pytest.approx(0.035488, abs=1e-6)


def test_z_test_is_the_uncorrected_chi_square():
    test = two_proportion_z_test(45, 900, 70, 1100)
    chi2, p_value, _, _ = chi2_contingency([[45, 855], [70, 1030]], correction=False)
    assert test.z**2 == pytest.approx(chi2)
    assert test.p_value == pytest.approx(p_value)
    assert test.z > 0  # b is higher


def test_z_test_without_variation_has_no_evidence():
    test = two_proportion_z_test(0, 50, 0, 70)
    assert (test.z, test.p_value) == (0.0, 1.0)
    assert math.isnan(test.lift)
    assert two_proportion_z_test(0, 50, 3, 70).lift == math.inf


@pytest.mark.parametrize("counts", [(1, 0, 1, 10), (11, 10, 1, 10), (1, 10, -1, 10)])
def test_z_test_refuses_empty_or_impossible_groups(counts):
    with pytest.raises(ValueError):
        two_proportion_z_test(*counts)
