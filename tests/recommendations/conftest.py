import pytest

from demo.dataset import demo_dataset_build
from demo.seed import demo_dataset_write


@pytest.fixture
def demo(db, settings):
    settings.RECOMMENDATIONS = {
        **settings.RECOMMENDATIONS,
        "ALS_SEARCH_TRIALS": 2,
        # A small catalog: few factors, as the automatic search finds on the default grid.
        "ALS_GRID": {
            "factors": [16],
            "regularization": [0.1, 0.05],
            "alpha": [5.0],
            "iterations": [15],
        },
        "PRECOMPUTE_SHARD_MEMBERS": 100,
    }
    dataset = demo_dataset_build(members=400, courses=100, interactions=10000, seed=3)
    demo_dataset_write(dataset=dataset)
    return dataset
