import pytest

from core import rate_limits
from core.rate_limits import Rate, rate_limit_take, rate_parse


@pytest.mark.parametrize(
    ("rate", "parsed"),
    [
        ("3/hour", Rate(3, 3600)),
        ("20/h", Rate(20, 3600)),
        ("5/minute", Rate(5, 60)),
        ("1/day", Rate(1, 86400)),
        ("10/s", Rate(10, 1)),
    ],
)
def test_rates_parse_as_drf_writes_them(rate, parsed):
    assert rate_parse(rate=rate) == parsed


@pytest.mark.parametrize("rate", ["3", "x/hour", "0/hour", "3/fortnight", "-1/hour", "3/"])
def test_a_rate_that_means_nothing_is_refused(rate):
    with pytest.raises(ValueError, match="A rate is N/second"):
        rate_parse(rate=rate)


def test_attempts_fit_until_the_rate_is_used_then_wait_for_the_oldest(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(rate_limits.time, "time", lambda: now[0])
    take = lambda key: rate_limit_take(scope="probe", key=key, rate="2/minute")  # noqa: E731
    assert take("a") is None
    now[0] += 10
    assert take("a") is None
    now[0] += 5
    # The oldest attempt leaves the window 60 s after it: 45 s from now. Refusals do not count.
    assert take("a") == pytest.approx(45.0)
    assert take("a") == pytest.approx(45.0)
    # Another key and another scope have their own counts.
    assert take("b") is None
    assert rate_limit_take(scope="other", key="a", rate="2/minute") is None
    now[0] += 46
    assert take("a") is None


def test_the_key_is_kept_hashed():
    import hashlib

    from django.core.cache import cache

    rate_limit_take(scope="probe", key="ada@example.com", rate="2/minute")
    digest = hashlib.sha256(b"ada@example.com").hexdigest()
    assert len(cache.get(f"rate_limit:probe:{digest}")) == 1
    assert cache.get("rate_limit:probe:ada@example.com") is None
