"""The one vocabulary for what a file is: the status scans, reports and `match` all use."""

from __future__ import annotations

from collections.abc import Sequence

from safeguard.domain.cases import FileStatus
from safeguard.domain.file_hashes import FileHashes
from safeguard.domain.matches import Match, Verdict, verdict_of


def status_of(
    fh: FileHashes,
    matches: Sequence[Match],
    item_error: str | None,
    media_error: str | None = None,
) -> FileStatus:
    """The status of one file.

    Known-bad always wins; a read error, a picture or video that could not be decoded (or a
    video whose frames could not all be decoded) outranks known-good and every "unknown"
    status, so a damaged file is never hidden nor called an unknown picture.
    Ignorable lists (e.g. NSRL) count as known-good, which only hides the file by default.
    """
    verdict = verdict_of(matches)
    if verdict is Verdict.KNOWN_BAD:
        return FileStatus.KNOWN_BAD
    undecodable = fh.error is not None and fh.media_type.startswith(("image/", "video/"))
    if item_error or media_error or (fh.error and not fh.digests) or undecodable:
        return FileStatus.ERROR
    if verdict in (Verdict.KNOWN_GOOD, Verdict.IGNORABLE):
        return FileStatus.KNOWN_GOOD
    if fh.media_type.startswith("image/"):
        return FileStatus.UNKNOWN_IMAGE
    if fh.media_type.startswith("video/"):
        return FileStatus.UNKNOWN_VIDEO
    return FileStatus.OTHER
