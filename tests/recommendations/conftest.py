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
