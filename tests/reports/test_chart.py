"""broadcaster.reports.chart: the report's inline SVG bar chart."""

from __future__ import annotations

import pytest

from broadcaster.reports.chart import bar_chart_svg
from broadcaster.reports.report import ReportLine


def test_chart_svg_escapes_and_scales():
    lines = [ReportLine("a", "<script>alert(1)</script>", airings=2, seconds=600),
             ReportLine("b", "Kinh tế - xã hội", airings=1, seconds=300)]
    svg = bar_chart_svg(lines, title="Số phút & lượt")
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "Số phút &amp; lượt" in svg
    assert "10,0 phút" in svg and "5,0 phút" in svg
    widths = [float(part.split('"')[0]) for part in svg.split('<rect x="230" y="')[1:] for part in [part.split('width="')[1]]]
    assert widths[0] == pytest.approx(2 * widths[1], rel=0.01)
    empty = bar_chart_svg([ReportLine("x", "X")], title="t")
    assert 'width="0"' in empty


# ------------------------------------------------------------------------------- week
