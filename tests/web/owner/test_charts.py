"""The charts' geometry: bars in proportion, the limit line where the limit is, axes a
person reads."""

from __future__ import annotations

import pytest

from newsletter.web.owner import charts


@pytest.mark.parametrize(
    ("value", "ceiling"),
    [(0, 1), (0.3, 0.5), (0.375, 0.5), (1, 1), (1.2, 2), (2.1, 2.5), (4.4, 5), (7, 10), (40, 50)],
)
def test_axes_end_on_a_round_number(value: float, ceiling: float) -> None:
    assert charts.nice_ceiling(value) == pytest.approx(ceiling)


def test_rate_bars_are_in_proportion_and_the_limit_is_a_line() -> None:
    chart = charts.rate_chart(["#1", "#2", "#3"], [0.0, 0.15, 0.45], limit=0.3)

    assert [bar.tone for bar in chart.bars] == ["plain", "plain", "over"]
    heights = [bar.height for bar in chart.bars]
    assert heights[0] == 0
    assert heights[2] == pytest.approx(3 * heights[1])
    assert chart.limit is not None
    # The limit line is as high above the baseline as a bar of 0.3% would be.
    assert chart.baseline - chart.limit.y == pytest.approx(2 * heights[1])
    assert chart.limit.label == "grens 0,3%"
    assert all(chart.left <= bar.x and bar.x + bar.width <= chart.right for bar in chart.bars)
    assert [tick.label for tick in chart.ticks] == ["0%", "0,25%", "0,5%"]


def test_a_limit_above_every_bar_still_fits_on_the_chart() -> None:
    chart = charts.rate_chart(["#1"], [0.0], limit=5.0)
    assert chart.limit is not None
    assert 0 < chart.limit.y < chart.baseline


def test_readers_are_a_line_and_their_changes_bars_up_and_down() -> None:
    weeks = ["W1", "W2", "W3", "W4"]
    line, changes = charts.readers_chart(weeks, [100, 104, 103, 110], [5, 4, 0, 8], [1, 5, 1, 1])

    ys = [float(point.split(",")[1]) for point in line.line.split()]
    assert len(ys) == 4
    assert ys[1] < ys[0] and ys[1] < ys[2] < ys[0] and ys[3] < ys[1]  # SVG y grows downwards
    assert all(line.ticks[i].y > line.ticks[i + 1].y for i in range(len(line.ticks) - 1))
    assert float(line.ticks[0].label) <= 100 and float(line.ticks[-1].label) >= 110
    ups = [bar for bar in changes.bars if bar.tone == "up"]
    downs = [bar for bar in changes.bars if bar.tone == "down"]
    assert ups[3].height == pytest.approx(2 * ups[1].height)
    assert ups[2].height == 0
    assert downs[1].height == pytest.approx(5 * downs[0].height)
    assert all(bar.y + bar.height == pytest.approx(changes.baseline) for bar in ups)
    assert all(bar.y == pytest.approx(changes.baseline) for bar in downs)
