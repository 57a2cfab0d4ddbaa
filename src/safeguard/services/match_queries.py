"""What `MatchService` matches: one `MatchQuery` per file's hashes or per set of bare digests.

A query holds canonical cryptographic (and PhotoDNA) digests and the labelled PDQ codes to
search: a file's original hash, its dihedral variants and recovered regions, or a bare PDQ
value as given. PDQ hashes below the quality floor are left out here, so matching never
sees them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from safeguard.domain.digests import HEX_LENGTHS, HashAlgorithm, normalise_digest
from safeguard.domain.file_hashes import FileHashes
from safeguard.hashing.pdq import DIHEDRAL_ORDER


@dataclass(frozen=True, slots=True)
class MatchQuery:
    """One item to match.

    Attributes:
        digests: canonical cryptographic digests.
        pdq: ``(label, code)`` pairs to search: the original, its dihedral variants and
            recovered regions (trimmed borders, embedded pictures), each named so a match
            says which one matched; empty when PDQ is not to be used.
        quality: the query's PDQ quality, reported on PDQ matches.
    """

    digests: Mapping[HashAlgorithm, str]
    pdq: tuple[tuple[str, str], ...]
    quality: int | None


_CANONICAL_HEX = {
    algorithm: re.compile(f"[0-9a-f]{{{length}}}") for algorithm, length in HEX_LENGTHS.items()
}


def canonical_digest(algorithm: HashAlgorithm, value: str) -> str:
    """`normalise_digest`, with a single regex test when the value is already canonical.

    Hash files and list readers give canonical values, and a batch pays this per value.

    Raises:
        InvalidDigestError: the value does not fit its algorithm.
    """
    pattern = _CANONICAL_HEX.get(algorithm)
    if pattern is not None and pattern.fullmatch(value):
        return value
    return normalise_digest(algorithm, value)


def digest_query(
    digests: Mapping[HashAlgorithm, str], pdq_quality: int | None, quality_floor: int
) -> MatchQuery:
    """The query of digests that arrive without content (a report, a platform's own hashes).

    A PDQ value is searched as given (label ``original``), and left out when `pdq_quality`
    is given and below `quality_floor`.

    Raises:
        InvalidDigestError: a value does not fit its algorithm.
    """
    canonical = {algo: canonical_digest(algo, value) for algo, value in digests.items()}
    pdq_value = canonical.pop(HashAlgorithm.PDQ, None)
    usable = pdq_quality is None or pdq_quality >= quality_floor
    pdq = (("original", pdq_value),) if pdq_value is not None and usable else ()
    return MatchQuery(canonical, pdq, pdq_quality)


def file_query(file_hashes: FileHashes, quality_floor: int) -> MatchQuery:
    """The query of one file's hashes.

    The PDQ hash is used only when fit for matching and at or above `quality_floor`, with
    its dihedral variants (named by `DIHEDRAL_ORDER` when all seven are there); recovered
    regions are used whatever the whole picture's quality. Cryptographic and PhotoDNA
    digests are normalised; empty ones are left out.

    Raises:
        InvalidDigestError: a digest in the record does not fit its algorithm.
    """
    pdq: list[tuple[str, str]] = []
    if (
        file_hashes.pdq is not None
        and file_hashes.pdq_fit_for_matching
        and (file_hashes.pdq_quality or 0) >= quality_floor
    ):
        variants = file_hashes.pdq_variants
        names = (
            DIHEDRAL_ORDER[1:]
            if len(variants) == len(DIHEDRAL_ORDER) - 1
            else tuple(f"variant-{n}" for n in range(1, len(variants) + 1))
        )
        pdq.append((DIHEDRAL_ORDER[0], file_hashes.pdq.lower()))
        pdq.extend((name, code.lower()) for name, code in zip(names, variants, strict=True))
    # Recovered regions passed their own quality and low-information checks in hashing,
    # so they count even when the whole picture (say, a screenshot) is too flat.
    pdq.extend((label, code.lower()) for label, code in file_hashes.pdq_regions)
    digests = {
        algo: normalise_digest(algo, value)
        for algo, value in file_hashes.digests.items()
        if (algo.is_cryptographic or algo is HashAlgorithm.PHOTODNA) and value
    }
    return MatchQuery(digests, tuple(pdq), file_hashes.pdq_quality)
