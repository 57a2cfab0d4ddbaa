"""Reads the machine-checkable parts of the HTML report back (counts tables, image tags)."""

from __future__ import annotations

from html.parser import HTMLParser


class ReportCounts(HTMLParser):
    """Collects ``data-status``/``data-count`` pairs of the status table, category counts, images."""

    def __init__(self) -> None:
        super().__init__()
        self.status_counts: dict[str, int] = {}
        self.category_counts: dict[str, int] = {}
        self.device_counts: dict[str, dict[str, int]] = {}
        self.images: list[str] = []
        self.scripts = 0
        self._table: str | None = None
        self._row: dict[str, str] = {}
        self._cell_status: str | None = None
        self._text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "table":
            self._table = a.get("id")
        elif tag == "tr":
            self._row = a
        elif tag == "td":
            self._cell_status = a.get("data-status")
            self._text = ""
            if "data-count" in a and self._table == "status-counts":
                self.status_counts[self._row["data-status"]] = int(a["data-count"])
            if "data-count" in a and self._table == "category-counts":
                self.category_counts[self._row["data-category"]] = int(a["data-count"])
        elif tag == "img":
            self.images.append(a.get("src", ""))
        elif tag == "script":
            self.scripts += 1

    def handle_data(self, data: str) -> None:
        self._text += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self._table == "devices" and self._cell_status:
            exhibit = self._row["data-exhibit"]
            self.device_counts.setdefault(exhibit, {})[self._cell_status] = int(
                self._text.strip().replace(",", "")
            )
            self._cell_status = None
        elif tag == "table":
            self._table = None


def parse_report(html: str) -> ReportCounts:
    parser = ReportCounts()
    parser.feed(html)
    parser.close()
    return parser
