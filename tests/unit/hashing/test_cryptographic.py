from __future__ import annotations

import hashlib

from hypothesis import given
from hypothesis import strategies as st

from safeguard.domain.digests import HashAlgorithm
from safeguard.hashing.cryptographic import MultiDigest, digest_bytes

ALL = (HashAlgorithm.MD5, HashAlgorithm.SHA1, HashAlgorithm.SHA256)


@given(st.lists(st.binary(max_size=300), max_size=8))
def test_chunked_updates_equal_hashlib_on_the_whole(chunks: list[bytes]) -> None:
    digest = MultiDigest(ALL)
    for chunk in chunks:
        digest.update(memoryview(bytearray(chunk)))
    whole = b"".join(chunks)
    assert digest.size == len(whole)
    assert digest.hexdigests() == {
        HashAlgorithm.MD5: hashlib.md5(whole).hexdigest(),
        HashAlgorithm.SHA1: hashlib.sha1(whole).hexdigest(),
        HashAlgorithm.SHA256: hashlib.sha256(whole).hexdigest(),
    }


def test_non_cryptographic_algorithms_are_ignored() -> None:
    assert digest_bytes(b"abc", [HashAlgorithm.PDQ, HashAlgorithm.SHA1]) == {
        HashAlgorithm.SHA1: hashlib.sha1(b"abc").hexdigest()
    }
