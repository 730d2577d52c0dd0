import pytest

from demo.dataset import demo_dataset_build
from demo.seed import demo_dataset_write


@pytest.fixture
def demo(db, settings):
    settings.RECOMMENDATIONS = {
        **settings.RECOMMENDATIONS,
        # A short search: two trials per family.
        "SEARCH_TRIALS_PER_FAMILY": 2,
        "SEARCH_BUDGET_SECONDS": 5.0,
        "PRECOMPUTE_SHARD_MEMBERS": 100,
    }
    dataset = demo_dataset_build(members=400, courses=100, interactions=10000, seed=3)
    demo_dataset_write(dataset=dataset)
    return dataset


class RecordingBroker:
    """A django-q2 broker that keeps what it is handed instead of running it."""

    list_key = "test"

    def __init__(self) -> None:
        self.packs: list[bytes] = []

    def enqueue(self, pack: bytes) -> str:
        self.packs.append(pack)
        return str(len(self.packs))


class DownBroker:
    """A django-q2 broker whose server is unreachable."""

    list_key = "test"

    def enqueue(self, pack: bytes) -> str:
        raise ConnectionError("Error 111 connecting to redis:6379. Connection refused.")


@pytest.fixture
def queued(monkeypatch):
    """Member refreshes go to a recording broker instead of running inline."""
    from django_q.conf import Conf

    from recommendations import refresh_queue

    broker = RecordingBroker()
    monkeypatch.setattr(Conf, "SYNC", False)
    monkeypatch.setattr(refresh_queue, "_task_broker", lambda: broker)
    return broker
