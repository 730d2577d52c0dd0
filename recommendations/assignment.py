"""Running experiments as plain definitions, and the deterministic variant of a member.

Kept apart from `experiments.py` so the per-process serving state (`snapshots.py`) can hold the
definitions without importing the homepage.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from recommendations.models import ExperimentVariant


@dataclass(frozen=True)
class VariantDefinition:
    id: int
    code: str
    strategy: str
    weight: int
    is_control: bool


@dataclass(frozen=True)
class ExperimentDefinition:
    id: int
    key: str
    name: str
    starts_at: dt.datetime
    ends_at: dt.datetime | None
    exploration_share: float
    variants: tuple[VariantDefinition, ...]

    def running_at(self, moment: dt.datetime) -> bool:
        return self.starts_at <= moment and (self.ends_at is None or moment < self.ends_at)


def experiments_load() -> list[ExperimentDefinition]:
    """Every experiment with its variants, in one query, earliest start first.

    All of them, ended ones included: whether one is running is decided per page view against
    that view's time (`running_at`), which lets a scheduled experiment start on time without a
    query and a simulation replay past days. There are tens of experiments, not thousands.
    """
    variants = ExperimentVariant.objects.select_related("experiment").order_by(
        "experiment__starts_at", "experiment_id", "pk"
    )
    grouped: dict[int, tuple] = {}
    for variant in variants:
        experiment = variant.experiment
        _, members = grouped.setdefault(experiment.pk, (experiment, []))
        members.append(
            VariantDefinition(
                id=variant.pk,
                code=variant.code,
                strategy=variant.strategy,
                weight=variant.weight,
                is_control=variant.is_control,
            )
        )
    return [
        ExperimentDefinition(
            id=experiment.pk,
            key=experiment.key,
            name=experiment.name,
            starts_at=experiment.starts_at,
            ends_at=experiment.ends_at,
            exploration_share=experiment.exploration_share,
            variants=tuple(members),
        )
        for experiment, members in grouped.values()
    ]


def experiment_running(
    *, experiments: list[ExperimentDefinition], now: dt.datetime
) -> ExperimentDefinition | None:
    """The experiment a page view takes part in: the earliest-started running one.

    One experiment per page view keeps every variant's metrics clean of another test's
    effects; a second running experiment waits (its members are not exposed) until the first
    ends.
    """
    return next((e for e in experiments if e.running_at(now) and e.variants), None)


def assignment_bucket(*, key: str, member_id: int) -> float:
    """A uniform number in [0, 1) fixed by the experiment key and the member id."""
    digest = hashlib.sha256(f"{key}:{member_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def variant_for_member(*, experiment: ExperimentDefinition, member_id: int) -> VariantDefinition:
    """The variant the hash puts this member in, by the variants' weights (in their order)."""
    total = sum(variant.weight for variant in experiment.variants)
    point = assignment_bucket(key=experiment.key, member_id=member_id) * total
    upper = 0.0
    for variant in experiment.variants:
        upper += variant.weight
        if point < upper:
            return variant
    return experiment.variants[-1]
