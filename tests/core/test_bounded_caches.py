from core.bounded_caches import older_half_drop


def test_the_older_half_goes_and_the_newer_half_stays_in_order():
    entries = {key: str(key) for key in range(5)}

    older_half_drop(entries)

    assert list(entries.items()) == [(2, "2"), (3, "3"), (4, "4")]


def test_a_single_entry_stays_and_an_empty_cache_is_left_empty():
    entries = {"a": 1}

    older_half_drop(entries)
    assert entries == {"a": 1}
    empty: dict = {}
    older_half_drop(empty)
    assert empty == {}
