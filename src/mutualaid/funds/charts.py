"""The monthly money-in and money-out chart of a fund, drawn on the server as SVG.

No chart library runs in the browser: the page gets a small, self-contained SVG with a <title>
and <desc> for screen readers, and the same figures as a table next to it. Every piece of text
that goes into the drawing is escaped, so a fund's name can never become markup.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from xml.sax.saxutils import escape

from django.utils import formats
from django.utils.translation import gettext as _

from mutualaid.groups.money import format_money

# The drawing's own units; the SVG scales to the width of the page through its viewBox.
PLOT_HEIGHT = 150
BAR_WIDTH = 14
BAR_GAP = 2
MONTH_GAP = 12
LEFT = 8
# Words are drawn large for the drawing: on a phone the chart shrinks to about 0.7 of its size.
FONT = 16
TOP = 30
BOTTOM = 50
COLOUR_IN = "#1d5b3a"
COLOUR_OUT = "#9b1c1c"


@dataclass(frozen=True)
class MonthBars:
    month: date
    in_minor: int
    out_minor: int
    in_height: float
    out_height: float


def _number(value: float) -> str:
    """A coordinate without needless digits: 75.0 -> '75', 37.456 -> '37.46'."""
    text = f"{round(value, 2):.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def bar_heights(months: Sequence[tuple[date, int, int]]) -> list[MonthBars]:
    """Each month's bars, the largest amount of the period drawn PLOT_HEIGHT high."""
    largest = max((max(abs(i), abs(o)) for _month, i, o in months), default=0)
    scale = PLOT_HEIGHT / largest if largest else 0.0
    return [
        MonthBars(month, i, o, round(abs(i) * scale, 2), round(abs(o) * scale, 2))
        for month, i, o in months
    ]


def month_label(month: date) -> str:
    """'Mar 2025', in the active language."""
    return formats.date_format(month, "M Y")


def monthly_chart_svg(*, months: Sequence[tuple[date, int, int]], currency: str, title: str) -> str:
    """The chart as an SVG document: two bars a month, money in then money out."""
    bars = bar_heights(months)
    per_month = 2 * BAR_WIDTH + BAR_GAP + MONTH_GAP
    width = LEFT * 2 + max(len(bars), 1) * per_month
    height = TOP + PLOT_HEIGHT + BOTTOM
    baseline = TOP + PLOT_HEIGHT

    if bars:
        first, last = month_label(bars[0].month), month_label(bars[-1].month)
        description = _(
            "Money in and money out of the fund each month from %(first)s to %(last)s. "
            "The same figures are in the table below the chart."
        ) % {"first": first, "last": last}
    else:
        description = _("Nothing has moved in this fund yet.")

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        'role="img" '
        'aria-labelledby="fund-chart-title fund-chart-desc" class="chart">',
        f'<title id="fund-chart-title">{escape(title)}</title>',
        f'<desc id="fund-chart-desc">{escape(description)}</desc>',
        f'<line x1="{LEFT}" y1="{baseline}" x2="{width - LEFT}" y2="{baseline}" '
        'stroke="#4a4a4a" stroke-width="1"/>',
    ]
    # A legend in words, so colour is never the only way to tell the bars apart.
    parts.append(
        f'<rect x="{LEFT}" y="4" width="14" height="14" fill="{COLOUR_IN}"/>'
        f'<text x="{LEFT + 20}" y="17" font-size="{FONT}" fill="#1b1b1b">{escape(_("In"))}</text>'
        f'<rect x="{LEFT + 80}" y="4" width="14" height="14" fill="{COLOUR_OUT}"/>'
        f'<text x="{LEFT + 100}" y="17" font-size="{FONT}" fill="#1b1b1b">'
        f"{escape(_('Out'))}</text>"
    )
    for index, bar in enumerate(bars):
        x_in = LEFT + index * per_month + MONTH_GAP // 2
        x_out = x_in + BAR_WIDTH + BAR_GAP
        label = month_label(bar.month)
        in_text = _("%(month)s: %(amount)s in") % {
            "month": label,
            "amount": format_money(bar.in_minor, currency),
        }
        out_text = _("%(month)s: %(amount)s out") % {
            "month": label,
            "amount": format_money(bar.out_minor, currency),
        }
        parts.append(
            f'<rect class="in" x="{x_in}" y="{_number(baseline - bar.in_height)}" '
            f'width="{BAR_WIDTH}" height="{_number(bar.in_height)}" fill="{COLOUR_IN}">'
            f"<title>{escape(in_text)}</title></rect>"
        )
        parts.append(
            f'<rect class="out" x="{x_out}" y="{_number(baseline - bar.out_height)}" '
            f'width="{BAR_WIDTH}" height="{_number(bar.out_height)}" fill="{COLOUR_OUT}">'
            f"<title>{escape(out_text)}</title></rect>"
        )
        centre = x_in + BAR_WIDTH + BAR_GAP // 2
        parts.append(
            f'<text x="{centre}" y="{baseline + 20}" font-size="{FONT}" text-anchor="middle" '
            f'fill="#1b1b1b">{escape(formats.date_format(bar.month, "M"))}</text>'
        )
        if bar.month.month == 1 or index == 0:
            parts.append(
                f'<text x="{centre}" y="{baseline + 40}" font-size="{FONT - 2}" '
                'text-anchor="middle" '
                f'fill="#4a4a4a">{escape(str(bar.month.year))}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)
