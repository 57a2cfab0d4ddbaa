"""What can be asked of the hashing capability: which digests, which PDQ path, which limits.

Hashing has two built-in kinds of hasher, and no plug-in registry on purpose: the
cryptographic digests (MD5, SHA-1, SHA-256 from `hashlib`, all fed from one read) and
PDQ (Meta's perceptual hash, through the `pdqhash` binding). A third kind would be a new
module beside these and one more branch in `pipeline`; until one exists a registry would
only add indirection.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Literal

from safeguard.domain.digests import CRYPTOGRAPHIC_ALGORITHMS, HashAlgorithm
from safeguard.domain.errors import ConfigurationError
from safeguard.domain.file_hashes import PDQ_MATCH_QUALITY_FLOOR

PdqMode = Literal["fast", "reference"]
"""``fast`` decodes JPEGs at reduced scale before PDQ; ``reference`` hashes full-size pixels."""

PDQ_MODES: tuple[str, ...] = ("fast", "reference")

DEFAULT_ALGORITHMS: frozenset[HashAlgorithm] = frozenset(
    {HashAlgorithm.MD5, HashAlgorithm.SHA1, HashAlgorithm.SHA256, HashAlgorithm.PDQ}
)
COMPUTABLE_ALGORITHMS: frozenset[HashAlgorithm] = DEFAULT_ALGORITHMS
"""PhotoDNA is stored and matched by equal value, never computed (distance needs the licensed algorithm)."""

DEFAULT_MAX_IMAGE_PIXELS = 178_956_970
"""Same figure as Pillow's own warning threshold (a 32-bit RGBA buffer of 2**31 bytes / 3)."""

DEFAULT_MAX_IMAGE_BYTES = 256 * 1024 * 1024
"""Encoded images larger than this are digested but not decoded (memory bound, see pipeline)."""

DEFAULT_CHUNK_SIZE = 1024 * 1024
"""1 MiB reads: large enough that hashlib runs at full speed, small enough to stay in cache."""


@dataclass(frozen=True, slots=True)
class HashOptions:
    """Which hashes to compute and the limits that protect the job.

    Attributes:
        algorithms: hashes to compute; any of MD5, SHA-1, SHA-256 and PDQ.
        pdq_mode: ``"fast"`` (JPEGs decoded by libjpeg at 1/2, 1/4 or 1/8 scale while keeping
            both sides at least `FAST_MIN_SIDE` pixels, see `safeguard.hashing.pdq`) or
            ``"reference"`` (full-size pixels, bit-exact with ``pdqhash.compute``). Non-JPEG
            images are always hashed at full size.
        max_image_pixels: images that would decode to more pixels than this are not decoded
            (bomb guard; on the fast path a JPEG is decoded at reduced scale, and that size
            counts); the file still gets its cryptographic digests.
        max_expansion: refuse images whose declared pixels (x bit depth) are more than this
            many times their encoded size (a bomb; see
            `safeguard.hashing.image_decoding.check_expansion`); 0 turns the check off.
        max_image_bytes: encoded images larger than this are not decoded either; it bounds the
            memory `hash_stream` and `hash_file` keep for decoding.
        pdq_quality_floor: PDQ hashes below this quality are kept but flagged as not fit for
            perceptual matching.
        dihedral: also compute the seven other rotations/flips of the PDQ hash into
            ``FileHashes.pdq_variants`` (order in `safeguard.hashing.pdq.DIHEDRAL_ORDER`).
        recovery: also hash the regions query-side recovery finds (frames and letterbox bars
            trimmed, the picture inside a screenshot, a small rotation undone) into
            ``FileHashes.pdq_regions`` as (label, hash); see `safeguard.hashing.recovery`.
            Costs about two plain PDQ hashes more per image (docs/robustness.md).
        chunk_size: bytes per read.
    """

    algorithms: frozenset[HashAlgorithm] = DEFAULT_ALGORITHMS
    pdq_mode: PdqMode = "fast"
    max_image_pixels: int = DEFAULT_MAX_IMAGE_PIXELS
    max_image_bytes: int = DEFAULT_MAX_IMAGE_BYTES
    max_expansion: float = 0.0
    pdq_quality_floor: int = PDQ_MATCH_QUALITY_FLOOR
    dihedral: bool = False
    chunk_size: int = DEFAULT_CHUNK_SIZE
    recovery: bool = False

    def __post_init__(self) -> None:
        unknown = set(self.algorithms) - COMPUTABLE_ALGORITHMS
        if unknown:
            names = ", ".join(sorted(a.value for a in unknown))
            raise ConfigurationError(f"cannot compute {names}; choose from md5, sha1, sha256, pdq")
        if self.pdq_mode not in PDQ_MODES:
            raise ConfigurationError(
                f"pdq_mode must be 'fast' or 'reference', not {self.pdq_mode!r}"
            )
        if self.max_image_pixels < 1 or self.max_image_bytes < 1 or self.chunk_size < 1:
            raise ConfigurationError("image limits and chunk size must be positive")
        if not 0 <= self.pdq_quality_floor <= 100:
            raise ConfigurationError("pdq_quality_floor must be between 0 and 100")

    @property
    def cryptographic(self) -> tuple[HashAlgorithm, ...]:
        """The cryptographic algorithms asked for, in canonical order (MD5, SHA-1, SHA-256)."""
        return tuple(a for a in CRYPTOGRAPHIC_ALGORITHMS if a in self.algorithms)

    @property
    def wants_pdq(self) -> bool:
        """True when PDQ is among the algorithms."""
        return HashAlgorithm.PDQ in self.algorithms


def parse_algorithms(text: str) -> frozenset[HashAlgorithm]:
    """Parse a comma-separated list such as ``"md5,sha1,pdq"`` (case-insensitive).

    Raises:
        ConfigurationError: an empty list or a name that cannot be computed.
    """
    names = [part.strip().lower() for part in text.split(",") if part.strip()]
    if not names:
        raise ConfigurationError("no hash algorithms given")
    chosen: set[HashAlgorithm] = set()
    for name in names:
        try:
            algorithm = HashAlgorithm(name)
        except ValueError as exc:
            raise ConfigurationError(
                f"unknown hash algorithm {name!r}; choose from md5, sha1, sha256, pdq"
            ) from exc
        if algorithm not in COMPUTABLE_ALGORITHMS:
            raise ConfigurationError(f"{name} cannot be computed, only imported from lists")
        chosen.add(algorithm)
    return frozenset(chosen)


@dataclass
class PixelBudget:
    """Pixels a batch of uploads may still decode, shared by its items (thread-safe).

    Attributes:
        total: the batch's budget.
        spent: decoded so far.
    """

    total: int
    spent: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    @property
    def remaining(self) -> int:
        """Pixels left."""
        with self._lock:
            return max(0, self.total - self.spent)

    def spend(self, pixels: int) -> None:
        """Take `pixels` from the budget."""
        with self._lock:
            self.spent += max(0, pixels)
