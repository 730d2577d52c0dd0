"""Coordinates for a small server-side SVG line chart (values in [0, 1] over evaluations)."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

# Series names sit right of their last point, in the template's 11px sans-serif. The plot ends
# early enough for the longest name to fit inside the SVG (an over-estimate of a glyph's
# width: the SVG clips whatever crosses its edge), and names whose lines end close together
# are spread apart vertically so they do not print over each other.
LABEL_GAP = 6
LABEL_CHAR_WIDTH = 7
LABEL_LINE_HEIGHT = 13


@dataclasses.dataclass(frozen=True)
class ChartSeries:
    label: str
    points: str  # "x,y x,y ..." for an SVG <polyline>
    last_x: float
    last_y: float
    label_x: float  # where the series' name goes, just right of its last point
    label_y: float  # its last point's height, moved apart from the other names' if they crowd


@dataclasses.dataclass(frozen=True)
class LineChart:
    width: int
    height: int
    left: int
    top: int
    plot_width: int
    plot_height: int
    series: list[ChartSeries]
    y_ticks: list[tuple[float, str]]  # (y coordinate, label)
    x_labels: list[tuple[float, str]]  # (x coordinate, label): first and last only


def line_chart(
    *,
    series: dict[str, Sequence[float]],
    x_labels: Sequence[str],
    width: int = 640,
    height: int = 240,
    margin: int = 36,
) -> LineChart:
    """Place every series on a shared 0–1 y axis, evenly spaced along x (one step per point).

    A single point is drawn in the middle, so one evaluation still shows up as a dot.
    """
    longest = max((len(label) for label in series), default=0)
    right = max(margin, LABEL_GAP + LABEL_CHAR_WIDTH * longest)
    plot_width, plot_height = width - margin - right, height - 2 * margin
    n = len(x_labels)

    def x_at(i: int) -> float:
        return margin + (plot_width / 2 if n == 1 else plot_width * i / (n - 1))

    def y_at(value: float) -> float:
        return margin + plot_height * (1.0 - min(1.0, max(0.0, value)))

    drawn = []
    for label, values in series.items():
        if len(values) != n:
            raise ValueError(f"Series {label!r} has {len(values)} values for {n} x labels.")
        if not n:
            continue
        coordinates = [(x_at(i), y_at(v)) for i, v in enumerate(values)]
        drawn.append(
            ChartSeries(
                label=label,
                points=" ".join(f"{x:.1f},{y:.1f}" for x, y in coordinates),
                last_x=round(coordinates[-1][0], 1),
                last_y=round(coordinates[-1][1], 1),
                label_x=round(coordinates[-1][0] + LABEL_GAP, 1),
                label_y=round(coordinates[-1][1], 1),
            )
        )
    drawn = _labels_apart(drawn, lowest=height - LABEL_LINE_HEIGHT / 2)
    ticks = [(round(y_at(v), 1), f"{v:.0%}") for v in (0.0, 0.25, 0.5, 0.75, 1.0)]
    ends = sorted({0, n - 1}) if n else []
    return LineChart(
        width=width,
        height=height,
        left=margin,
        top=margin,
        plot_width=plot_width,
        plot_height=plot_height,
        series=drawn,
        y_ticks=ticks,
        x_labels=[(round(x_at(i), 1), x_labels[i]) for i in ends],
    )


def _labels_apart(drawn: list[ChartSeries], *, lowest: float) -> list[ChartSeries]:
    """The same series, each name at least a line below the one above it (top to bottom by
    where the lines end) and none below `lowest`, in the order given."""
    order = sorted(range(len(drawn)), key=lambda i: (drawn[i].last_y, i))
    placed: dict[int, float] = {}
    floor = -math.inf
    for index in order:  # push crowded names down
        placed[index] = max(drawn[index].last_y, floor)
        floor = placed[index] + LABEL_LINE_HEIGHT
    ceiling = lowest
    for index in reversed(order):  # then back up, where that pushed them off the bottom
        placed[index] = min(placed[index], ceiling)
        ceiling = placed[index] - LABEL_LINE_HEIGHT
    return [
        dataclasses.replace(item, label_y=round(placed[index], 1))
        for index, item in enumerate(drawn)
    ]
