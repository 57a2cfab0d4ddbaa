"""A saved `PdqIndex`: its ``.npy`` arrays and manifest, written by swap and read memory-mapped.

The folder holds one ``.npy`` file per array in `SAVED_ARRAYS` and a ``manifest.json`` naming
`FORMAT_NAME` and `FORMAT_VERSION`, the chunk widths and the entry counts; nothing is pickled.
Writing and the manifest checks are those of `safeguard.matching.index_files`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from safeguard.domain.errors import StorageError
from safeguard.matching.index_files import read_manifest, staging_folder, swap_in, write_manifest
from safeguard.matching.mih_layout import N_CHUNKS
from safeguard.matching.pdq_codes import CODE_BYTES

FORMAT_NAME = "safeguard.pdq-index"
FORMAT_VERSION = 1

SAVED_ARRAYS = ("codes", "ids", "positions", "offsets", "rows", "dead", "delta_codes", "delta_ids")
"""The arrays of an index folder, each in ``<name>.npy``, in the order they are read."""


def write_index_folder(
    directory: Path, arrays: Mapping[str, NDArray[Any]], chunk_widths: Sequence[int], removed: int
) -> None:
    """Write `arrays` (every name in `SAVED_ARRAYS`) and the manifest under `directory`.

    The files are written to a sibling folder first and swapped in by renames, so a
    reader (or an index memory-mapped from `directory`) never sees a half-written index;
    the old files stay readable by anyone who still maps them.

    Raises:
        StorageError: `directory` exists and is not a saved index.
    """
    target = Path(directory)
    staging = staging_folder(target)
    for name, array in arrays.items():
        np.save(staging / f"{name}.npy", np.asarray(array), allow_pickle=False)
    manifest = {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "entries": int(arrays["codes"].shape[0]),
        "chunk_widths": tuple(chunk_widths),
        "removed": removed,
        "delta_entries": int(arrays["delta_codes"].shape[0]),
    }
    write_manifest(staging, manifest)
    swap_in(staging, target)


def read_index_folder(
    directory: Path, mmap: bool
) -> tuple[list[int], int, dict[str, NDArray[Any]]]:
    """The chunk widths, main-segment entries and arrays of a folder written by `write_index_folder`.

    With `mmap` the arrays are mapped, not read. The arrays are not checked against the
    manifest here: `check_index_arrays` does that.

    Raises:
        StorageError: missing files, or another format or version.
    """
    folder = Path(directory)
    manifest = read_manifest(folder, FORMAT_NAME, FORMAT_VERSION)
    mode: Literal["r"] | None = "r" if mmap else None

    def read(name: str) -> NDArray[Any]:
        try:
            return np.asarray(np.load(folder / f"{name}.npy", mmap_mode=mode, allow_pickle=False))
        except (OSError, ValueError) as exc:
            raise StorageError(f"cannot read {name}.npy in {folder}") from exc

    widths = [int(w) for w in manifest["chunk_widths"]]
    arrays = {name: read(name) for name in SAVED_ARRAYS}
    return widths, int(manifest["entries"]), arrays


def check_index_arrays(
    arrays: Mapping[str, NDArray[Any]], widths: Sequence[int], entries: int
) -> None:
    """Check the shapes and types of an index's arrays against its manifest.

    Raises:
        StorageError: an array does not match the manifest.
    """
    expected_offsets = sum((1 << w) + 1 for w in widths)
    codes, rows, offsets, positions = (
        arrays["codes"],
        arrays["rows"],
        arrays["offsets"],
        arrays["positions"],
    )
    problems = [
        codes.shape != (entries, CODE_BYTES),
        arrays["ids"].shape != (entries,),
        rows.shape != (N_CHUNKS - 1, entries),
        offsets.shape != (expected_offsets,),
        positions.shape != (N_CHUNKS, max(widths)),
        arrays["dead"].shape not in ((0,), (entries,)),
        codes.dtype != np.uint8 or rows.dtype != np.uint32,
        offsets.dtype != np.uint32 or positions.dtype != np.int16,
    ]
    if any(problems):
        raise StorageError("PDQ index arrays do not match their manifest")
