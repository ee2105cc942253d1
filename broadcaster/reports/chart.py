"""The report's horizontal bar chart as inline SVG."""

from __future__ import annotations

import html
from collections.abc import Sequence

from ..localtime import fmt_minutes
from .report import ReportLine

CHART_COLOURS = ("#1d4ed8", "#b45309", "#b91c1c", "#047857", "#7c3aed", "#0e7490", "#be185d", "#4d7c0f")


def bar_chart_svg(lines: Sequence[ReportLine], *, title: str, value: str = "minutes") -> str:
    """A horizontal bar chart as inline SVG (server-rendered; no JavaScript, works offline).

    `value` is "minutes" or "airings". Labels are escaped here: the result is safe to embed.
    """
    width, label_w, bar_h, gap, top = 640, 230, 22, 8, 30
    values = [(line.minutes if value == "minutes" else float(line.airings)) for line in lines]
    biggest = max(values, default=0.0) or 1.0
    height = top + len(lines) * (bar_h + gap) + 10
    unit = "phút" if value == "minutes" else "lượt"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" '
        f'role="img" aria-label="{html.escape(title)}" class="chart">',
        f'<title>{html.escape(title)}</title>',
        f'<text x="0" y="18" font-size="15" font-weight="bold" fill="#111">{html.escape(title)}</text>',
    ]
    span = width - label_w - 90
    for index, (line, amount) in enumerate(zip(lines, values)):
        y = top + index * (bar_h + gap)
        bar = 0 if amount <= 0 else max(2, round(span * amount / biggest))
        label = line.label if len(line.label) <= 34 else line.label[:33] + "…"
        shown = fmt_minutes(line.seconds) if value == "minutes" else str(line.airings)
        parts.append(
            f'<text x="{label_w - 6}" y="{y + bar_h * 0.7:.1f}" font-size="13" text-anchor="end" fill="#222">'
            f"{html.escape(label)}</text>"
        )
        parts.append(
            f'<rect x="{label_w}" y="{y}" width="{bar}" height="{bar_h}" rx="3" '
            f'fill="{CHART_COLOURS[index % len(CHART_COLOURS)]}"><title>{html.escape(line.label)}: '
            f"{html.escape(shown)} {unit}</title></rect>"
        )
        parts.append(
            f'<text x="{label_w + bar + 6}" y="{y + bar_h * 0.7:.1f}" font-size="13" fill="#222">'
            f"{html.escape(shown)} {unit}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


__all__ = ["bar_chart_svg", "CHART_COLOURS"]
