"""Use case: write match results as a hash list (VICS 2.0, CSV or hashdeep).

Results become `HashEntry` objects (the file's path as its name, its digests, the category
of the deciding match and that entry's provenance) and go through the registered list
writers, so a match export reads back into Safeguard or another tool like any list.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from safeguard.domain.digests import HashAlgorithm
from safeguard.domain.file_hashes import FileHashes
from safeguard.domain.hash_lists import UNCATEGORISED, HashEntry, ListKind, Provenance
from safeguard.domain.matches import Match
from safeguard.list_formats.contract import ListMetadata
from safeguard.list_formats.registry import writer_named
from safeguard.services.hash_lists.management import EXPORT_FORMATS

MatchResult = tuple[FileHashes, Sequence[Match]]
"""One file's hashes and its matches."""


def match_result_entry(hashes: FileHashes, matches: Sequence[Match]) -> HashEntry | None:
    """The file as a list entry; None when it has no digest at all (unreadable).

    The category and provenance are those of the deciding match: a known-bad match's when
    there is one (known-good never overrides it), a categorised one before an uncategorised
    one, else the first match's, else none.
    """
    digests = dict(hashes.digests)
    if hashes.pdq:
        digests[HashAlgorithm.PDQ] = hashes.pdq
    if not digests:
        return None
    known_bad = [m for m in matches if m.list_kind is ListKind.KNOWN_BAD]
    # A categorised match decides over an uncategorised one: an uncategorised list that also
    # holds the file must not wipe out the category another list gives it.
    deciding = next(
        (m for m in known_bad if not m.category.is_uncategorised),
        known_bad[0] if known_bad else (matches[0] if matches else None),
    )
    return HashEntry(
        entry_id=deciding.entry_id if deciding else hashes.path,
        digests=digests,
        category=deciding.category if deciding else UNCATEGORISED,
        provenance=deciding.provenance if deciding else Provenance(),
        file_name=hashes.path,
        size=hashes.size,
    )


def export_match_results(
    results: Iterable[MatchResult], path: Path, format_name: str, *, only_matched: bool = True
) -> int:
    """Write `results` to `path` in `format_name` (vics, csv or hashdeep); returns entries written.

    Args:
        results: files with their matches, in the order to write.
        path: the file to write.
        format_name: one of `EXPORT_FORMATS`.
        only_matched: leave out files without any match.

    Raises:
        ConfigurationError / ListFormatError: an unknown format name.
    """
    writer = writer_named(format_name)
    entries = (
        entry
        for hashes, matches in results
        if matches or not only_matched
        if (entry := match_result_entry(hashes, matches)) is not None
    )
    metadata = ListMetadata(format_name, source="safeguard match", suggested_name="match-results")
    with path.open("w", encoding="utf-8", newline="") as stream:
        return writer.write(entries, stream, metadata)


__all__ = ["EXPORT_FORMATS", "MatchResult", "export_match_results", "match_result_entry"]
