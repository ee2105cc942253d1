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


def test_chart_labels_are_never_cut_or_clipped():
    """Issue #11 item 10: a long topic name is wrapped onto lines that fit left of the bars."""
    import re

    from broadcaster.reports.chart import LABEL_CHARS

    long = "Tuyên truyền phòng chống thiên tai và tìm kiếm cứu nạn mùa mưa bão năm 2026"
    lines = [ReportLine("a", long, airings=3, seconds=1200), ReportLine("b", "Y tế", airings=1, seconds=60),
             ReportLine("c", "Từ_rất_dài_không_có_dấu_cách_nào_để_ngắt_dòng_cả", airings=1, seconds=5)]
    svg = bar_chart_svg(lines, title="Số phút theo chủ đề")
    assert "…" not in svg
    labels = re.findall(r'<text font-size="13" text-anchor="end" fill="#222">(.*?)</text>', svg)
    texts = [re.findall(r"<tspan [^>]*>([^<]*)</tspan>", label) for label in labels]
    assert " ".join(texts[0]).split() == long.split() and len(texts[0]) > 1  # every word, in order, wrapped
    assert texts[1] == ["Y tế"]
    assert "".join(texts[2]) == lines[2].label  # a word longer than a line is split, not cut
    spans = re.findall(r'<tspan x="([\d.]+)" y="[\d.]+">([^<]*)</tspan>', svg)
    for x, text in spans:
        assert len(text) <= LABEL_CHARS and float(x) - 7.5 * len(text) >= 0, text  # right-anchored: fits
    view_w, view_h = map(float, re.search(r'viewBox="0 0 ([\d.]+) ([\d.]+)"', svg).groups())
    ys = [float(y) for y in re.findall(r'<tspan x="[\d.]+" y="([\d.]+)"', svg)]
    assert max(ys) < view_h
    for x, text in re.findall(r'<text x="([\d.]+)" y="[\d.]+" font-size="13" fill="#222">([^<]*)</text>', svg):
        assert float(x) + 7.5 * len(text) <= view_w, text  # the values at the bar ends fit too
