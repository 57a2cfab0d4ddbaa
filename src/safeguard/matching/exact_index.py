"""Exact lookup of cryptographic digests in sorted fixed-width arrays, per algorithm.

A Python set of ten million hex strings costs gigabytes; here each digest is its first eight
bytes as a big-endian ``uint64`` (sorted, searched with `numpy.searchsorted`) plus the remaining
bytes in a ``uint8[N, width - 8]`` array compared only inside an equal-prefix range. At 10
million SHA-256 digests that is 80 + 240 MB of digests and 40-80 MB of ids.

Changes go to a small per-algorithm delta (a dict) and a tombstone mask, folded into the
sorted arrays by `ExactDigestIndex.compact` once they pass a fraction of the table.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from safeguard.domain.digests import HEX_LENGTHS, HashAlgorithm
from safeguard.domain.errors import InvalidDigestError, StorageError
from safeguard.matching.hex_arrays import bytes_from_hex
from safeguard.matching.index_files import read_manifest, staging_folder, swap_in, write_manifest

__all__ = ["ExactDigestIndex"]

FORMAT_NAME = "safeguard.exact-index"
FORMAT_VERSION = 1
PREFIX_BYTES = 8
DEFAULT_COMPACT_FRACTION = 0.01
MIN_DELTA_BEFORE_COMPACT = 50_000


def _algorithm(value: HashAlgorithm | str) -> HashAlgorithm:
    try:
        algorithm = HashAlgorithm(str(value).lower())
    except ValueError as exc:
        raise InvalidDigestError(f"unknown hash algorithm {value!r}") from exc
    if algorithm not in HEX_LENGTHS:
        raise InvalidDigestError(f"{algorithm.value} digests cannot be looked up exactly")
    return algorithm


def _prefixes(digests: NDArray[np.uint8]) -> NDArray[np.uint64]:
    """The first eight bytes of each digest as a big-endian number, so order is byte order."""
    head = np.ascontiguousarray(digests[:, :PREFIX_BYTES])
    return head.view(">u8").reshape(-1).astype(np.uint64)


@dataclass
class _DigestTable:
    """One algorithm's digests: sorted main arrays, tombstones, and an unsorted delta."""

    width: int
    prefix: NDArray[np.uint64]
    rest: NDArray[np.uint8]
    ids: NDArray[np.int64]
    dead: NDArray[np.bool_] = field(default_factory=lambda: np.zeros(0, dtype=bool))
    dead_count: int = 0
    delta: dict[bytes, list[int]] = field(default_factory=dict)
    delta_count: int = 0

    @classmethod
    def from_digests(
        cls, width: int, ids: NDArray[np.int64], digests: NDArray[np.uint8]
    ) -> _DigestTable:
        prefix = _prefixes(digests) if digests.shape[0] else np.zeros(0, np.uint64)
        order = np.argsort(prefix, kind="stable")
        return cls(
            width=width,
            prefix=prefix[order],
            rest=np.ascontiguousarray(digests[order, PREFIX_BYTES:]),
            ids=np.ascontiguousarray(ids[order]),
        )

    @property
    def live(self) -> int:
        return int(self.prefix.shape[0] - self.dead_count + self.delta_count)

    def lookup(self, digests: NDArray[np.uint8]) -> list[list[int]]:
        """Ids per query digest (empty lists for misses)."""
        found: list[list[int]] = [[] for _ in range(digests.shape[0])]
        if self.prefix.shape[0]:
            wanted = _prefixes(digests)
            low = np.searchsorted(self.prefix, wanted, side="left")
            high = np.searchsorted(self.prefix, wanted, side="right")
            for query in np.flatnonzero(high > low).tolist():
                tail = digests[query, PREFIX_BYTES:]
                for row in range(int(low[query]), int(high[query])):
                    if np.array_equal(self.rest[row], tail) and not (
                        self.dead_count and self.dead[row]
                    ):
                        found[query].append(int(self.ids[row]))
        if self.delta:
            for query in range(digests.shape[0]):
                found[query].extend(self.delta.get(digests[query].tobytes(), ()))
        return found

    def add(self, ids: NDArray[np.int64], digests: NDArray[np.uint8]) -> None:
        for entry_id, digest in zip(ids.tolist(), digests, strict=True):
            self.delta.setdefault(digest.tobytes(), []).append(int(entry_id))
        self.delta_count += ids.shape[0]

    def remove(self, ids: NDArray[np.int64]) -> int:
        removed = 0
        if self.ids.shape[0]:
            hit = np.isin(self.ids, ids)
            if self.dead.shape[0]:
                hit &= ~self.dead
            else:
                self.dead = np.zeros(self.ids.shape[0], dtype=bool)
            newly = int(hit.sum())
            self.dead[hit] = True
            self.dead_count += newly
            removed += newly
        if self.delta:
            gone = set(ids.tolist())
            for key in list(self.delta):
                kept = [i for i in self.delta[key] if i not in gone]
                removed += len(self.delta[key]) - len(kept)
                if kept:
                    self.delta[key] = kept
                else:
                    del self.delta[key]
            self.delta_count = sum(len(v) for v in self.delta.values())
        return removed

    def delta_arrays(self) -> tuple[NDArray[np.int64], NDArray[np.uint8]]:
        keys = [key for key, values in self.delta.items() for _ in values]
        ids = np.array([i for values in self.delta.values() for i in values], dtype=np.int64)
        digests = np.frombuffer(b"".join(keys), dtype=np.uint8).reshape(len(keys), self.width)
        return ids, digests

    def compacted(self) -> _DigestTable:
        live = slice(None) if self.dead.shape[0] == 0 else ~self.dead
        main_digests = np.concatenate(
            [
                np.asarray(self.prefix[live])
                .astype(">u8")
                .view(np.uint8)
                .reshape(-1, PREFIX_BYTES),
                np.asarray(self.rest[live]),
            ],
            axis=1,
        )
        delta_ids, delta_digests = self.delta_arrays()
        return _DigestTable.from_digests(
            self.width,
            np.concatenate([np.asarray(self.ids[live], dtype=np.int64), delta_ids]),
            np.concatenate([main_digests, delta_digests]),
        )


class ExactDigestIndex:
    """Exact digest lookup for any algorithm with a fixed hex length (MD5, SHA-1, SHA-256, PDQ).

    Ids are the caller's (typically stored entry row ids); one id may hold several digests and
    one digest may belong to several ids. Lookups are safe from several threads; changes are not.
    """

    def __init__(self, compact_fraction: float = DEFAULT_COMPACT_FRACTION) -> None:
        """Start empty; fill with `build` or `add`, or use `load`."""
        self._tables: dict[HashAlgorithm, _DigestTable] = {}
        self.compact_fraction = compact_fraction

    def __len__(self) -> int:
        """Number of live (id, algorithm, digest) entries."""
        return sum(table.live for table in self._tables.values())

    @property
    def algorithms(self) -> tuple[HashAlgorithm, ...]:
        """Algorithms with a table, in insertion order."""
        return tuple(self._tables)

    def build(
        self, algorithm: HashAlgorithm | str, ids: NDArray[np.int64], hex_values: Sequence[str]
    ) -> None:
        """Replace the table of `algorithm` with these (id, digest) pairs.

        Raises:
            InvalidDigestError: unknown algorithm or a malformed digest (reported by position).
        """
        algo = _algorithm(algorithm)
        width = HEX_LENGTHS[algo] // 2
        digests = bytes_from_hex(hex_values, width)
        id_array = self._ids(ids, digests.shape[0])
        self._tables[algo] = _DigestTable.from_digests(width, id_array, digests)

    def lookup(
        self, algorithm: HashAlgorithm | str, hex_values: Sequence[str]
    ) -> dict[str, list[int]]:
        """Ids holding each digest: ``{lower-case hex: sorted unique ids}``, hits only."""
        algo = _algorithm(algorithm)
        table = self._tables.get(algo)
        if table is None or not hex_values:
            return {}
        digests = bytes_from_hex(hex_values, table.width)
        found = table.lookup(digests)
        return {
            value.lower(): sorted(set(ids))
            for value, ids in zip(hex_values, found, strict=True)
            if ids
        }

    def add(
        self, algorithm: HashAlgorithm | str, ids: NDArray[np.int64], hex_values: Sequence[str]
    ) -> None:
        """Add (id, digest) pairs for one algorithm without rebuilding the sorted table."""
        algo = _algorithm(algorithm)
        width = HEX_LENGTHS[algo] // 2
        digests = bytes_from_hex(hex_values, width)
        id_array = self._ids(ids, digests.shape[0])
        table = self._tables.get(algo)
        if table is None:
            table = _DigestTable.from_digests(width, np.zeros(0, np.int64), digests[:0])
            self._tables[algo] = table
        table.add(id_array, digests)
        self._maybe_compact(algo)

    def remove(self, ids: NDArray[np.int64]) -> int:
        """Remove every digest of these ids under every algorithm; returns pairs removed."""
        id_array = np.ascontiguousarray(ids, dtype=np.int64).reshape(-1)
        if id_array.shape[0] == 0:
            return 0
        removed = sum(table.remove(id_array) for table in self._tables.values())
        for algo in list(self._tables):
            self._maybe_compact(algo)
        return removed

    def compact(self) -> None:
        """Fold every delta and tombstone into freshly sorted arrays."""
        for algo, table in self._tables.items():
            if table.delta_count or table.dead_count:
                self._tables[algo] = table.compacted()

    def _maybe_compact(self, algo: HashAlgorithm) -> None:
        table = self._tables[algo]
        limit = max(MIN_DELTA_BEFORE_COMPACT, self.compact_fraction * table.prefix.shape[0])
        if table.delta_count + table.dead_count > limit:
            self._tables[algo] = table.compacted()

    @staticmethod
    def _ids(ids: NDArray[np.int64], count: int) -> NDArray[np.int64]:
        array = np.ascontiguousarray(ids, dtype=np.int64).reshape(-1)
        if array.shape[0] != count:
            raise ValueError(f"got {array.shape[0]} ids for {count} digests")
        return array

    # -- persistence --------------------------------------------------------------------------

    def save(self, directory: Path) -> None:
        """Write ``<algorithm>.*.npy`` arrays and ``manifest.json`` under `directory`.

        Written to a sibling folder and swapped in by renames, like `PdqIndex.save`.

        Raises:
            StorageError: `directory` exists and is not a saved index.
        """
        target = Path(directory)
        staging = staging_folder(target)
        for algo, table in self._tables.items():
            delta_ids, delta_digests = table.delta_arrays()
            arrays: dict[str, NDArray[Any]] = {
                "prefix": table.prefix,
                "rest": table.rest,
                "ids": table.ids,
                "dead": table.dead,
                "delta_ids": delta_ids,
                "delta_digests": delta_digests,
            }
            for name, array in arrays.items():
                np.save(staging / f"{algo.value}.{name}.npy", np.asarray(array), allow_pickle=False)
        manifest = {
            "format": FORMAT_NAME,
            "version": FORMAT_VERSION,
            "algorithms": {
                algo.value: {"entries": int(t.prefix.shape[0]), "width": t.width}
                for algo, t in self._tables.items()
            },
        }
        write_manifest(staging, manifest)
        swap_in(staging, target)

    @classmethod
    def load(
        cls,
        directory: Path,
        mmap: bool = True,
        *,
        compact_fraction: float = DEFAULT_COMPACT_FRACTION,
    ) -> ExactDigestIndex:
        """Open an index written by `save`; with `mmap` the sorted arrays are mapped, not read.

        Raises:
            StorageError: missing files, another format or version, or inconsistent arrays.
        """
        folder = Path(directory)
        manifest = read_manifest(folder, FORMAT_NAME, FORMAT_VERSION)
        mode: Literal["r"] | None = "r" if mmap else None
        index = cls(compact_fraction=compact_fraction)
        for name, info in manifest["algorithms"].items():
            algo = _algorithm(name)

            def read(part: str, algo: HashAlgorithm = algo) -> NDArray[Any]:
                path = folder / f"{algo.value}.{part}.npy"
                try:
                    return np.asarray(np.load(path, mmap_mode=mode, allow_pickle=False))
                except (OSError, ValueError) as exc:
                    raise StorageError(f"cannot read {path.name} in {folder}") from exc

            width, entries = int(info["width"]), int(info["entries"])
            table = _DigestTable(width, read("prefix"), read("rest"), read("ids"))
            dead = read("dead")
            if table.prefix.shape != (entries,) or table.rest.shape != (entries, width - 8):
                raise StorageError(f"{algo.value} arrays in {folder} do not match the manifest")
            if table.ids.shape != (entries,) or dead.shape not in ((0,), (entries,)):
                raise StorageError(f"{algo.value} ids in {folder} do not match the manifest")
            table.dead = np.array(dead, dtype=bool)
            table.dead_count = int(table.dead.sum())
            delta_ids = read("delta_ids")
            delta_digests = read("delta_digests")
            if delta_digests.shape[0]:
                table.add(np.asarray(delta_ids, dtype=np.int64), np.asarray(delta_digests))
            index._tables[algo] = table
        return index
