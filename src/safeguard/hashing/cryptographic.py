"""Several cryptographic digests fed from one sequential read.

`hashlib` releases the GIL and runs OpenSSL's assembly for each update, so the Python
overhead per 1 MiB chunk is negligible; what matters is reading each byte once and not
copying it. `MultiDigest.update` takes any buffer (a `memoryview` of a reused
`bytearray` in the pipeline), so the read loop allocates nothing per chunk.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from safeguard.domain.digests import HashAlgorithm

BytesLike = bytes | bytearray | memoryview

_HASHLIB_NAMES: dict[HashAlgorithm, str] = {
    HashAlgorithm.MD5: "md5",
    HashAlgorithm.SHA1: "sha1",
    HashAlgorithm.SHA256: "sha256",
}


class MultiDigest:
    """MD5, SHA-1 and/or SHA-256 of the same bytes, updated together.

    Not thread-safe; one instance per file.
    """

    __slots__ = ("_hashers", "_updates", "algorithms", "size")

    def __init__(self, algorithms: Iterable[HashAlgorithm]) -> None:
        """Start digests for the cryptographic `algorithms` (others are ignored)."""
        self.algorithms: tuple[HashAlgorithm, ...] = tuple(
            a for a in algorithms if a in _HASHLIB_NAMES
        )
        # usedforsecurity=False keeps MD5/SHA-1 available on FIPS-mode OpenSSL builds:
        # these digests identify files, they do not protect anything.
        self._hashers: dict[HashAlgorithm, hashlib._Hash] = {
            a: hashlib.new(_HASHLIB_NAMES[a], usedforsecurity=False) for a in self.algorithms
        }
        self._updates = tuple(h.update for h in self._hashers.values())
        self.size = 0

    def update(self, data: BytesLike) -> None:
        """Feed the next bytes to every digest."""
        for update in self._updates:
            update(data)
        self.size += len(data) if isinstance(data, bytes) else memoryview(data).nbytes

    def hexdigests(self) -> dict[HashAlgorithm, str]:
        """Lower-case hex digest per algorithm, for the bytes fed so far."""
        return {a: h.hexdigest() for a, h in self._hashers.items()}


def digest_bytes(data: BytesLike, algorithms: Iterable[HashAlgorithm]) -> dict[HashAlgorithm, str]:
    """Digests of bytes already in memory."""
    digest = MultiDigest(algorithms)
    digest.update(data)
    return digest.hexdigests()
