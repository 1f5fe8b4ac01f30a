"""Report charts drawn with matplotlib and returned as SVG text.

Figures are built with the object API (``matplotlib.figure.Figure``), so no pyplot state
or GUI backend is involved. Text is drawn as paths (``svg.fonttype: path``), so a chart
looks the same on machines without the font. The fixed hash salt and the empty date keep
the SVG bytes the same for the same numbers.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Callable, Sequence
from datetime import date

FUNNEL_COLOR = "#1f6f8b"
"""Fill of the funnel bars."""
VOLUME_COLOR = "#7a9e7e"
"""Fill of the emails-sent-per-day bars."""
RATE_COLORS: dict[str, str] = {
    "open_rate": "#d1495b",
    "click_rate": "#edae49",
    "reply_rate": "#00798c",
    "bounce_rate": "#6b4e71",
    "unsubscribe_rate": "#8d8d8d",
}
"""Line colour of each rate in the rates-over-time chart."""
RATE_LABELS: dict[str, str] = {
    "open_rate": "open rate (of delivered)",
    "click_rate": "click rate (of delivered)",
    "reply_rate": "reply rate (of delivered)",
    "bounce_rate": "bounce rate (of sent)",
    "unsubscribe_rate": "unsubscribe rate (of delivered)",
}

MAX_PERIOD_TICKS = 20
"""Up to this many periods, the rates chart labels each one; beyond, matplotlib picks the ticks."""

_RC = {"svg.fonttype": "path", "svg.hashsalt": "klenty-wh", "font.size": 10,
       "axes.spines.top": False, "axes.spines.right": False}


def _styled(draw: Callable[..., str]) -> Callable[..., str]:
    """Run a chart function under the report's matplotlib settings, leaving the global ones alone."""

    @functools.wraps(draw)
    def wrapper(*args, **kwargs) -> str:
        import matplotlib

        with matplotlib.rc_context(_RC):
            return draw(*args, **kwargs)

    return wrapper


@_styled
def funnel_chart(steps: Sequence[tuple[str, int, str]]) -> str:
    """Return a horizontal bar chart of the funnel as SVG text.

    ``steps`` contains (label, count, annotation) from the top of the funnel down. The
    annotation (such as "48.7% of delivered") is written after each bar.
    """
    figure, axes = _figure(10, 3.2)
    labels = [label for label, _, _ in steps]
    counts = [count for _, count, _ in steps]
    positions = list(range(len(steps)))[::-1]
    axes.barh(positions, counts, color=FUNNEL_COLOR, height=0.62)
    axes.set_yticks(positions, labels)
    top = max(counts, default=0) or 1
    axes.set_xlim(0, top * 1.38)
    for position, (_, count, note) in zip(positions, steps):
        axes.text(count + top * 0.01, position, f"{count:,}  {note}", va="center", fontsize=9)
    axes.set_xlabel("emails")
    axes.xaxis.grid(True, color="#e3e3e3")
    axes.set_axisbelow(True)
    return _svg(figure)


@_styled
def rates_chart(periods: Sequence[date], rates: dict[str, Sequence[float | None]], title: str) -> str:
    """Return a line chart of rates (0 to 1) over ``periods`` as SVG text; None leaves a gap."""
    from matplotlib.ticker import PercentFormatter

    figure, axes = _figure(10, 3.6)
    if not periods:
        return _empty(figure, axes, "No sent emails yet, so there are no rates to draw.")
    for name, values in rates.items():
        points = [float("nan") if value is None else value for value in values]
        axes.plot(list(periods), points, color=RATE_COLORS[name], label=RATE_LABELS[name],
                  linewidth=2.4, marker="o", markersize=3.5)
    if len(periods) <= MAX_PERIOD_TICKS:
        axes.set_xticks(list(periods), [period.isoformat() for period in periods])
    axes.yaxis.set_major_formatter(PercentFormatter(xmax=1.0, decimals=0))
    axes.set_ylim(bottom=0)
    axes.set_title(title, loc="left", fontsize=10)
    axes.yaxis.grid(True, color="#e3e3e3")
    axes.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False, fontsize=8.5)
    figure.autofmt_xdate()
    return _svg(figure)


@_styled
def volume_chart(days: Sequence[date], sent: Sequence[int]) -> str:
    """Return a bar chart of emails sent per day as SVG text."""
    figure, axes = _figure(10, 2.8)
    if not days:
        return _empty(figure, axes, "No sent emails yet.")
    axes.bar(list(days), list(sent), color=VOLUME_COLOR, width=0.8)
    axes.set_title("Emails sent per UTC day", loc="left", fontsize=10)
    axes.set_ylabel("emails sent")
    axes.yaxis.grid(True, color="#e3e3e3")
    axes.set_axisbelow(True)
    figure.autofmt_xdate()
    return _svg(figure)


def _figure(width: float, height: float):
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), layout="constrained")
    return figure, figure.add_subplot()


def _empty(figure, axes, message: str) -> str:
    axes.set_axis_off()
    axes.text(0.5, 0.5, message, ha="center", va="center", transform=axes.transAxes, color="#555555")
    return _svg(figure)


def _svg(figure) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None})
    return buffer.getvalue()
