"""The report's horizontal bar chart as inline SVG."""

from __future__ import annotations

import html
from collections.abc import Sequence

from ..localtime import fmt_minutes
from .report import ReportLine

LINE_H = 16  # px per label line at font-size 13
# A 13 px sans-serif glyph is at most ~7.5 px wide on average (Vietnamese capitals with marks
# included): 29 characters fit in the 224 px left of the bars.
LABEL_CHARS = 29


def wrap_label(label: str, limit: int = LABEL_CHARS) -> list[str]:
    """A label as lines of at most `limit` characters, broken between words (a longer word is split)."""
    lines: list[str] = []
    current = ""
    for word in label.split():
        while len(word) > limit:
            if current:
                lines.append(current)
                current = ""
            lines.append(word[:limit])
            word = word[limit:]
        candidate = f"{current} {word}" if current else word
        if len(candidate) <= limit:
            current = candidate
        else:
            lines.append(current)
            current = word
    if current or not lines:
        lines.append(current)
    return lines


CHART_COLOURS = ("#1d4ed8", "#b45309", "#b91c1c", "#047857", "#7c3aed", "#0e7490", "#be185d", "#4d7c0f")


def bar_chart_svg(lines: Sequence[ReportLine], *, title: str, value: str = "minutes") -> str:
    """A horizontal bar chart as inline SVG (server-rendered; no JavaScript, works offline).

    `value` is "minutes" or "airings". Labels are escaped here: the result is safe to embed.
    """
    width, label_w, bar_h, gap, top = 680, 230, 22, 8, 30
    values = [(line.minutes if value == "minutes" else float(line.airings)) for line in lines]
    biggest = max(values, default=0.0) or 1.0
    wrapped = [wrap_label(line.label, LABEL_CHARS) for line in lines]
    rows = [max(bar_h, len(label_lines) * LINE_H + 6) for label_lines in wrapped]
    height = top + sum(row + gap for row in rows) + 10
    unit = "phút" if value == "minutes" else "lượt"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" '
        f'role="img" aria-label="{html.escape(title)}" class="chart">',
        f'<title>{html.escape(title)}</title>',
        f'<text x="0" y="18" font-size="15" font-weight="bold" fill="#111">{html.escape(title)}</text>',
    ]
    span = width - label_w - 130  # room right of the longest bar for "1.234,5 phút"
    y = top
    for index, (line, amount) in enumerate(zip(lines, values)):
        row = rows[index]
        bar = 0 if amount <= 0 else max(2, round(span * amount / biggest))
        shown = fmt_minutes(line.seconds) if value == "minutes" else str(line.airings)
        label_lines = wrapped[index]
        first = y + (row - len(label_lines) * LINE_H) / 2 + LINE_H * 0.8
        # the whole label, wrapped onto lines that fit left of the bars (never cut, never clipped)
        spans = "".join(
            f'<tspan x="{label_w - 6}" y="{first + n * LINE_H:.1f}">{html.escape(text)}</tspan>'
            for n, text in enumerate(label_lines)
        )
        parts.append(f'<text font-size="13" text-anchor="end" fill="#222">{spans}</text>')
        bar_y = y + (row - bar_h) / 2
        parts.append(
            f'<rect x="{label_w}" y="{bar_y:.1f}" width="{bar}" height="{bar_h}" rx="3" '
            f'fill="{CHART_COLOURS[index % len(CHART_COLOURS)]}"><title>{html.escape(line.label)}: '
            f"{html.escape(shown)} {unit}</title></rect>"
        )
        parts.append(
            f'<text x="{label_w + bar + 6}" y="{bar_y + bar_h * 0.7:.1f}" font-size="13" fill="#222">'
            f"{html.escape(shown)} {unit}</text>"
        )
        y += row + gap
    parts.append("</svg>")
    return "".join(parts)


__all__ = ["bar_chart_svg", "wrap_label", "CHART_COLOURS"]
