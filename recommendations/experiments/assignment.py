"""Running experiments as plain definitions, the deterministic variant of a member, its
assignment stored on first exposure, and the checks on an experiment's variants.

Plain definitions, so the per-process serving state (`serving/state.py`) can hold them without
importing the homepage.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from members.models import Member
from recommendations.models import (
    Experiment,
    ExperimentAssignment,
    ExperimentVariant,
)


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
    # `Experiment.Channel`: which pages it serves (homepage, email or all).
    channel: str = "homepage"

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
            channel=experiment.channel,
        )
        for experiment, members in grouped.values()
    ]


def experiment_running(
    *,
    experiments: list[ExperimentDefinition],
    now: dt.datetime,
    channel: str = Experiment.Channel.HOMEPAGE,
) -> ExperimentDefinition | None:
    """The experiment a page on `channel` (`Experiment.Channel.HOMEPAGE` or `EMAIL`) takes
    part in: the earliest-started running one that targets that channel or all.

    One experiment per page keeps every variant's metrics clean of another test's effects; a
    second running experiment on the same channel waits (its members are not exposed) until
    the first ends. A homepage experiment and an email one may run side by side: each page
    is in one of them, and each one's results count its own channel's pages.
    """
    targets = (channel, Experiment.Channel.ALL)
    return next(
        (e for e in experiments if e.channel in targets and e.running_at(now) and e.variants),
        None,
    )


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


def experiment_variant_assign(
    *, experiment: ExperimentDefinition, member: Member, now: dt.datetime
) -> VariantDefinition:
    """The member's variant: the stored one, or the hash's, stored now (first exposure)."""
    hashed = variant_for_member(experiment=experiment, member_id=member.pk)
    assignment, _ = ExperimentAssignment.objects.get_or_create(
        experiment_id=experiment.id,
        member=member,
        defaults={"variant_id": hashed.id, "assigned_at": now},
    )
    stored = next((v for v in experiment.variants if v.id == assignment.variant_id), None)
    return stored or hashed


def experiment_variants_problems(*, variants: Sequence[tuple[str, str, int, bool]]) -> list[str]:
    """What is wrong with an experiment's variants (code, strategy, weight, is_control)."""
    problems = []
    if len(variants) < 2:
        problems.append("An experiment needs at least two variants.")
    if sum(1 for *_, control in variants if control) != 1:
        problems.append("Exactly one variant must be the control.")
    codes = [code for code, *_ in variants]
    if len(set(codes)) != len(codes):
        problems.append("Variant codes must be different.")
    if any(weight <= 0 for _, _, weight, _ in variants):
        problems.append("Every variant needs a positive weight.")
    return problems
