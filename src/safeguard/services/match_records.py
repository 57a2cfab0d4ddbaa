"""How matches are ordered for people and written out for machines (``--json``, the API)."""

from __future__ import annotations

from collections.abc import Iterable

from safeguard.domain.cases import match_as_record as stored_match_record
from safeguard.domain.hash_lists import ListKind
from safeguard.domain.matches import Match

_KIND_ORDER = {ListKind.KNOWN_BAD: 0, ListKind.IGNORABLE: 1, ListKind.KNOWN_GOOD: 2}


def sort_matches(matches: Iterable[Match]) -> list[Match]:
    """Known-bad first, exact before perceptual, closest first, then by list and entry."""
    return sorted(
        matches,
        key=lambda m: (
            _KIND_ORDER.get(m.list_kind, 3),
            not m.is_exact,
            m.distance,
            m.list_name,
            m.entry_id,
        ),
    )


def match_as_record(match: Match) -> dict[str, object]:
    """A JSON-ready mapping of one match, as `safeguard match --json` prints it.

    The fields of `safeguard.domain.cases.match_as_record`, the same names as JSON case
    reports and the HTTP API use (``list_name``). ``list`` repeats the list's name for
    scripts written against earlier versions of this command (deprecated alias).
    """
    record = stored_match_record(match)
    return {"list_name": record["list_name"], "list": record["list_name"], **record}
