"""What a matching index promises: exact digest lookup and perceptual (PDQ) radius search.

Indexes speak in integer ids chosen by the caller (typically the stored entry's row id); the
service that owns the lists turns a hit into a `safeguard.domain.matches.Match` with the list,
the entry id as the list gives it, category and provenance.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

from safeguard.domain.digests import HashAlgorithm


@dataclass(frozen=True, slots=True, order=True)
class MatchCandidate:
    """One indexed code within the threshold of a query.

    Ordering sorts by distance, then id, then variant (closest first).

    Attributes:
        distance: Hamming distance between the indexed code and the matching query variant.
        row_id: the id the code was given in ``build`` or ``add``.
        variant: index of the query variant that matched best (0 for a single-code search;
            for `PerceptualIndex.search_variants` the row of the ``codes`` argument).
    """

    distance: int
    row_id: int
    variant: int = 0


@runtime_checkable
class PerceptualIndex(Protocol):
    """Exact radius search over 256-bit perceptual codes (``uint8[32]`` each)."""

    def __len__(self) -> int:
        """Number of live entries."""
        ...

    def search(self, code: NDArray[np.uint8], threshold: int) -> list[MatchCandidate]:
        """Every entry within `threshold` bits of `code`, closest first; never misses one."""
        ...

    def search_variants(self, codes: NDArray[np.uint8], threshold: int) -> list[MatchCandidate]:
        """Search several variants of one query (e.g. 8 rotations/flips) in one call.

        Returns one candidate per matched id: its best distance over the variants and the
        row of `codes` that gave it (the lowest such row on ties), closest first.
        """
        ...

    def search_batch(
        self, codes: NDArray[np.uint8], starts: NDArray[np.int64], threshold: int
    ) -> dict[int, list[MatchCandidate]]:
        """`search_variants` for many queries in one call.

        Query ``q`` is the rows ``codes[starts[q]:starts[q + 1]]`` (``len(starts)`` is the
        number of queries plus one). Returns, for each query with at least one hit, what
        `search_variants` returns for its rows (variants numbered within the query).
        """
        ...

    def add(self, ids: NDArray[np.int64], codes: NDArray[np.uint8]) -> None:
        """Add entries; an id already present is replaced."""
        ...

    def remove(self, ids: NDArray[np.int64]) -> int:
        """Remove entries by id; returns how many were removed."""
        ...

    def save(self, directory: Path) -> None:
        """Write the index under `directory` (no pickle)."""
        ...


@runtime_checkable
class ExactIndex(Protocol):
    """Exact lookup of cryptographic digests (hex text) per algorithm."""

    def __len__(self) -> int:
        """Number of live (id, algorithm, digest) entries."""
        ...

    def lookup(
        self, algorithm: HashAlgorithm | str, hex_values: Sequence[str]
    ) -> dict[str, list[int]]:
        """Ids holding each digest; only digests with at least one id appear, keyed lower-case."""
        ...

    def add(
        self, algorithm: HashAlgorithm | str, ids: NDArray[np.int64], hex_values: Sequence[str]
    ) -> None:
        """Add (id, digest) pairs for one algorithm."""
        ...

    def remove(self, ids: NDArray[np.int64]) -> int:
        """Remove every digest of these ids, under every algorithm; returns pairs removed."""
        ...

    def save(self, directory: Path) -> None:
        """Write the index under `directory` (no pickle)."""
        ...
