"""The pager of the log pages (the station's log and the clusters' log): the page asked for in the
query string, and the links of the pager (templates/pager.html draws it)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from urllib.parse import urlencode

from fastapi import Request


def page_number(request: Request) -> int:
    """?page=N (a whole number from 1); anything else is the first page."""
    value = request.query_params.get("page", "1")
    return int(value) if value.isascii() and value.isdecimal() and int(value) > 0 else 1


def page_links(path: str, params: Mapping[str, str]) -> Callable[[int], str]:
    """page number → the URL of that page with the same filters."""
    return lambda number: path + "?" + urlencode({**params, "page": number})


__all__ = ["page_links", "page_number"]
