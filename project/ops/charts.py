"""Small bar charts of the last hour, drawn on the server as inline SVG.

The page runs under the site's CSP (no inline script, no style attribute): a chart is geometry
only (viewBox, rects), its colours and size come from static/css/ops.css by class.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

WIDTH, HEIGHT = 600, 100  # the viewBox; CSS scales it to the page's width
GAP = 2


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    title: str  # the minute and its value, shown on hover


@dataclass(frozen=True)
class Chart:
    title: str
    latest: str  # the current minute's value so far, as text
    peak: str  # the top of the scale, as text
    bars: list[Bar]
    width: int = WIDTH
    height: int = HEIGHT

    @property
    def view_box(self) -> str:
        return f"0 0 {self.width} {self.height}"


def bar_chart(
    title: str,
    values: Sequence[float | None],  # one per minute, oldest first; None: nothing to show that minute
    labels: Sequence[str],  # the minute of each value ("12:34")
    *,
    fmt: Callable[[float], str],
    scale_to: float | None = None,  # a fixed top (1.0 for a ratio); else the largest value
) -> Chart:
    present = [value for value in values if value is not None]
    top = scale_to if scale_to is not None else max(present, default=0.0)
    slot = WIDTH / max(len(values), 1)
    bars = []
    for index, (value, label) in enumerate(zip(values, labels, strict=True)):
        if not value:
            continue
        # At least one unit tall, so a minute with a small value still shows.
        height = max(HEIGHT * value / top, 1.0)
        bars.append(
            Bar(
                x=round(index * slot, 2),
                y=round(HEIGHT - height, 2),
                width=round(slot - GAP, 2),
                height=round(height, 2),
                title=f"{label}: {fmt(value)}",
            )
        )
    latest = values[-1] if values else None
    return Chart(title=title, latest=fmt(latest) if latest is not None else "–", peak=fmt(top), bars=bars)
