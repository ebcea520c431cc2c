"""Tables that sort and page on the server: links, not scripts, so they work by keyboard.

A page hands `TableView.build` its rows (dicts), its columns and the request; the view sorts
by `?sort=COLUMN&dir=asc|desc`, cuts page `?page=N` of `page_size` rows and builds the links
the `table` macro of `_macros.html` renders (headers with `aria-sort`, a pager). For queues
too long to load whole, `TableView.paged` asks the database for the one page instead.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    numeric: bool = False
    sortable: bool = True


@dataclass
class TableView:
    columns: list[Column]
    rows: list[dict]
    total: int
    page: int
    pages: int
    sort: str | None
    direction: str
    _request: Request

    @staticmethod
    def requested(
        request: Request,
        columns: list[Column],
        default_sort: str | None = None,
        default_direction: str = "asc",
    ) -> tuple[str | None, str, int]:
        """The (sort column, direction, page) the request asks for, checked."""
        keys = {c.key for c in columns if c.sortable}
        sort = request.query_params.get("sort") or default_sort
        if sort not in keys:
            sort = default_sort if default_sort in keys else None
        direction = request.query_params.get("dir", default_direction)
        direction = direction if direction in ("asc", "desc") else "asc"
        try:
            page = max(1, int(request.query_params.get("page", "1")))
        except ValueError:
            page = 1
        return sort, direction, page

    @classmethod
    def build(
        cls,
        request: Request,
        rows: list[dict],
        columns: list[Column],
        default_sort: str | None = None,
        default_direction: str = "asc",
        page_size: int = 50,
    ) -> TableView:
        """Sort and cut a page of `rows` here (lists of a few thousand rows at most)."""
        sort, direction, page = cls.requested(request, columns, default_sort, default_direction)
        if sort is not None:
            rows = sorted(rows, key=lambda r: _sort_key(r.get(sort)), reverse=direction == "desc")
        total = len(rows)
        pages = max(1, -(-total // page_size))
        page = min(page, pages)
        shown = rows[(page - 1) * page_size : page * page_size]
        return cls(columns, shown, total, page, pages, sort, direction, request)

    @classmethod
    def paged(
        cls,
        request: Request,
        fetch: Callable[[str | None, str, int, int], list[dict]],
        total: int,
        columns: list[Column],
        default_sort: str | None = None,
        default_direction: str = "asc",
        page_size: int = 50,
    ) -> TableView:
        """A page the database sorts and cuts: `fetch(sort, direction, offset, limit)`."""
        sort, direction, page = cls.requested(request, columns, default_sort, default_direction)
        pages = max(1, -(-total // page_size))
        page = min(page, pages)
        rows = fetch(sort, direction, (page - 1) * page_size, page_size) if total else []
        return cls(columns, rows, total, page, pages, sort, direction, request)

    def link(self, **changes: Any) -> str:
        params = dict(self._request.query_params)
        params.update({k: str(v) for k, v in changes.items()})
        return f"{self._request.url.path}?{urlencode(params)}"

    def sort_link(self, key: str) -> str:
        direction = "desc" if self.sort == key and self.direction == "asc" else "asc"
        return self.link(sort=key, dir=direction, page=1)

    def aria_sort(self, key: str) -> str:
        if self.sort != key:
            return "none"
        return "ascending" if self.direction == "asc" else "descending"


def _sort_key(value: Any) -> tuple:
    if value is None:
        return (1, 0, "")
    if isinstance(value, int | float):
        return (0, 0, value)
    return (0, 1, str(value).lower())
