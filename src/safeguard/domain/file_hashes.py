"""The result of hashing one file: every digest from one read, or the reason there is none."""

from __future__ import annotations

from dataclasses import dataclass, field

from safeguard.domain.digests import HashAlgorithm

PDQ_MATCH_QUALITY_FLOOR = 50
"""PDQ hashes of lower quality are kept but not used for perceptual matching (Meta's advice)."""


@dataclass(frozen=True, slots=True)
class FileHashes:
    """Digests of one file, all from a single read.

    Attributes:
        path: where the file was found (for evidence: the full path inside the exhibit).
        size: bytes read; None when the file could not be read at all.
        digests: cryptographic digests by algorithm, canonical lower-case hex.
        pdq: 64-hex PDQ hash of the (first frame of the) image, or None.
        pdq_quality: PDQ quality 0-100, or None.
        pdq_variants: the other dihedral PDQ hashes (rotations/flips), when asked for.
        pdq_regions: (label, hash) pairs of regions query-side recovery believes are the
            original picture (``trimmed``, ``trimmed-loose``, ``embedded``,
            ``embedded-loose``, ``deskewed``, and with dihedral on also e.g.
            ``trimmed+flip_y``; see `safeguard.hashing.recovery`), when asked for. Match
            them like ``pdq`` and report the label as ``Match.variant``.
        media_type: MIME type sniffed from content.
        error: why this file has no (or incomplete) hashes; None when all went well.
    """

    path: str
    size: int | None
    digests: dict[HashAlgorithm, str] = field(default_factory=dict)
    pdq: str | None = None
    pdq_quality: int | None = None
    pdq_variants: tuple[str, ...] = ()
    pdq_regions: tuple[tuple[str, str], ...] = ()
    media_type: str = "application/octet-stream"
    error: str | None = None
    pdq_floor: int = PDQ_MATCH_QUALITY_FLOOR

    @property
    def pdq_fit_for_matching(self) -> bool:
        """True when the PDQ hash exists and its quality reaches the floor."""
        return self.pdq is not None and (self.pdq_quality or 0) >= self.pdq_floor

    def digest(self, algorithm: HashAlgorithm) -> str | None:
        """The value for any algorithm, PDQ included; None when absent."""
        if algorithm is HashAlgorithm.PDQ:
            return self.pdq
        return self.digests.get(algorithm)

    def as_record(self) -> dict[str, object]:
        """Flat, JSON-ready mapping with the field names of `safeguard hash --json`."""
        return {
            "path": self.path,
            "size": self.size,
            "md5": self.digests.get(HashAlgorithm.MD5),
            "sha1": self.digests.get(HashAlgorithm.SHA1),
            "sha256": self.digests.get(HashAlgorithm.SHA256),
            "pdq": self.pdq,
            "pdq_quality": self.pdq_quality,
            "pdq_fit_for_matching": self.pdq_fit_for_matching,
            "media_type": self.media_type,
            "error": self.error,
        }
