"""Cell values shared by the log and report exports."""

from __future__ import annotations

from datetime import datetime


def enum_value(value) -> str | None:
    """An enum member's value (or the text itself) as a string; None stays None."""
    if value is None:
        return None
    return str(getattr(value, "value", value))


def csv_cell(value) -> str:
    """One CSV cell: local times as the station writes them, text never read as a formula."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%d/%m/%Y %H:%M:%S")
    if isinstance(value, float):
        return f"{value:g}"
    text = str(value)
    # a cell starting with = + - @ is a formula to a spreadsheet: a title must stay text
    if text[:1] in ("=", "+", "-", "@"):
        text = "'" + text
    return text


def excel_text(value):
    """A spreadsheet cell's value: text that would start a formula is kept as text."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value
