"""The charts of the owner's area as geometry: numbers in, SVG coordinates out.

Pure: the templates (``templates/web/owner/charts.html``) draw these shapes as inline
SVG, so a chart needs no JavaScript, no image request and nothing the strict
Content-Security-Policy would have to allow. Every chart is drawn in a fixed
``viewBox`` and scales to the width it is given; its numbers are in a table beside it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

WIDTH = 640
LEFT = 56  # room for the value labels of the y axis
RIGHT = 12
TOP = 12


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    title: str
    tone: str = "plain"  # the bar's colour: plain, over (a limit), up or down


@dataclass(frozen=True)
class Tick:
    y: float
    label: str


@dataclass(frozen=True)
class Chart:
    """One drawing: bars, an optional line (SVG ``points``), a limit line, axes."""

    height: int
    bars: Sequence[Bar]
    ticks: Sequence[Tick]
    x_labels: Sequence[tuple[float, str]]
    baseline: float
    line: str = ""
    limit: Tick | None = None
    width: int = WIDTH
    left: float = LEFT
    right: float = WIDTH - RIGHT


def nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 × 10ⁿ at or above ``value``: an axis end a person reads."""
    if value <= 0:
        return 1.0
    power = 10.0 ** math.floor(math.log10(value))
    return next(step * power for step in (1, 2, 2.5, 5, 10) if value <= step * power * (1 + 1e-9))


def _number(value: float) -> str:
    text = f"{value:,.2f}".rstrip("0").rstrip(".")
    return text.replace(",", " ").replace(".", ",")


def _slots(count: int) -> tuple[float, float]:
    """The left edge of the plot and the width each of ``count`` slots gets."""
    return LEFT, (WIDTH - LEFT - RIGHT) / max(count, 1)


def _x_labels(labels: Sequence[str], every: int) -> list[tuple[float, str]]:
    left, slot = _slots(len(labels))
    return [
        (left + slot * (index + 0.5), label)
        for index, label in enumerate(labels)
        if index % every == 0 or index == len(labels) - 1
    ]


def rate_chart(labels: Sequence[str], percents: Sequence[float], limit: float) -> Chart:
    """Bars of a percentage per edition against a provider's limit, drawn as a line."""
    height, plot = 180, 140
    top = nice_ceiling(max([*percents, limit * 1.25]))
    left, slot = _slots(len(labels))

    def y(value: float) -> float:
        return TOP + plot * (1 - value / top)

    bars = [
        Bar(
            left + slot * (i + 0.15),
            y(p),
            slot * 0.7,
            TOP + plot - y(p),
            f"{label}: {_number(p)}%",
            "over" if p >= limit else "plain",
        )
        for i, (label, p) in enumerate(zip(labels, percents, strict=True))
    ]
    ticks = [Tick(y(top * step / 2), f"{_number(top * step / 2)}%") for step in range(3)]
    return Chart(
        height=height,
        bars=bars,
        ticks=ticks,
        x_labels=_x_labels(labels, max(1, math.ceil(len(labels) / 6))),
        baseline=y(0),
        limit=Tick(y(limit), f"grens {_number(limit)}%"),
    )


def readers_chart(
    labels: Sequence[str], active: Sequence[int], joined: Sequence[int], left: Sequence[int]
) -> tuple[Chart, Chart]:
    """Active readers per week as a line; sign-ups (up) and leavers (down) as bars."""
    return _line_chart(labels, active), _change_chart(labels, joined, left)


def _line_chart(labels: Sequence[str], values: Sequence[int]) -> Chart:
    height, plot = 180, 140
    low, high = min(values, default=0), max(values, default=0)
    step = nice_ceiling(max(high - low, 4) / 4)
    bottom = math.floor(low / step) * step
    top = max(bottom + 4 * step, math.ceil(high / step) * step)
    start, slot = _slots(len(labels))

    def y(value: float) -> float:
        return TOP + plot * (1 - (value - bottom) / (top - bottom))

    points = " ".join(f"{start + slot * (i + 0.5):.1f},{y(v):.1f}" for i, v in enumerate(values))
    count = round((top - bottom) / step)
    ticks = [Tick(y(bottom + step * i), _number(bottom + step * i)) for i in range(count + 1)]
    return Chart(
        height=height,
        bars=[],
        ticks=ticks,
        x_labels=_x_labels(labels, max(1, math.ceil(len(labels) / 6))),
        baseline=y(bottom),
        line=points,
    )


def _change_chart(labels: Sequence[str], joined: Sequence[int], left: Sequence[int]) -> Chart:
    height, half = 160, 64
    top = nice_ceiling(max([*joined, *left, 1]))
    start, slot = _slots(len(labels))
    zero = TOP + half
    bars: list[Bar] = []
    for i, (label, up, down) in enumerate(zip(labels, joined, left, strict=True)):
        x, width = start + slot * (i + 0.15), slot * 0.7
        bars.append(Bar(x, zero - half * up / top, width, half * up / top, f"{label}: +{up}", "up"))
        bars.append(Bar(x, zero, width, half * down / top, f"{label}: -{down}", "down"))
    ticks = [
        Tick(zero - half, f"+{_number(top)}"),
        Tick(zero, "0"),
        Tick(zero + half, f"-{_number(top)}"),
    ]
    return Chart(
        height=height,
        bars=bars,
        ticks=ticks,
        x_labels=_x_labels(labels, max(1, math.ceil(len(labels) / 6))),
        baseline=zero,
    )
