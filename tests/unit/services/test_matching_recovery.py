"""The match service searches recovered regions and names the one that matched."""

from __future__ import annotations

import io

from PIL import Image, ImageOps

from safeguard.domain.digests import HashAlgorithm
from safeguard.domain.hash_lists import HashEntry, HashList, ListKind
from safeguard.hashing.contract import HashOptions
from safeguard.hashing.pipeline import hash_bytes
from safeguard.services.demo.pictures import encode, synthetic_photo
from safeguard.services.matching import MatchService
from safeguard.storage.memory_hash_lists import MemoryHashListStore


def _service_knowing(picture: Image.Image) -> MatchService:
    listed = hash_bytes(encode(picture), "listed.jpg", HashOptions())
    assert listed.pdq is not None
    store = MemoryHashListStore()
    store.import_list(
        HashList("stand-ins", ListKind.KNOWN_BAD, version="1"),
        [HashEntry("42", {HashAlgorithm.PDQ: listed.pdq})],
    )
    return MatchService(store)


def test_a_bordered_copy_is_found_through_its_trimmed_region() -> None:
    picture = synthetic_photo(7, 640, 480)
    service = _service_knowing(picture)
    bordered = encode(ImageOps.expand(picture, border=120, fill=(255, 255, 255)))

    plain = hash_bytes(bordered, "copy.jpg", HashOptions(dihedral=True))
    assert service.match_file_hashes(plain) == []

    recovered = hash_bytes(bordered, "copy.jpg", HashOptions(dihedral=True, recovery=True))
    (match,) = service.match_file_hashes(recovered)
    assert match.entry_id == "42"
    assert match.variant != "original"  # says which region matched, for the reviewer
    assert match.distance <= match.threshold


def test_a_mirrored_copy_names_its_dihedral_variant() -> None:
    picture = synthetic_photo(8, 640, 480)
    service = _service_knowing(picture)
    buffer = io.BytesIO(encode(ImageOps.mirror(picture)))
    hashes = hash_bytes(buffer.getvalue(), "mirror.jpg", HashOptions(dihedral=True))
    (match,) = service.match_file_hashes(hashes)
    # A left-right mirror is PDQ's flip about the vertical axis: pdqhash calls it flip_y.
    assert match.variant == "flip_y"
    assert match.distance <= 10
