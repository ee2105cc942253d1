"""The pages of a long list (the station's log, the clusters' log): page numbers and the one rule for
a page asked beyond the end (it is the last page)."""

from __future__ import annotations


class Paged:
    """What a pager needs of a page: mixed into a dataclass with `total`, `page` and `per_page`."""

    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return page_count(self.total, self.per_page)

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def page_count(total: int, per_page: int) -> int:
    """How many pages `total` rows make (one, even for none)."""
    return max(1, -(-total // per_page))


def clamp_page(page: int, total: int, per_page: int) -> int:
    """The page to show for `page` asked: 1 at least, the last page at most (a stale link past the end)."""
    return min(max(1, int(page)), page_count(total, per_page))


__all__ = ["Paged", "clamp_page", "page_count"]
