"""One-pass hashing of a file, a stream or bytes into a `FileHashes` record.

Every entry point reads its input once, sequentially, feeding each chunk to all the
cryptographic digests; when the content sniffs as an image and PDQ is wanted, the same
chunks are also kept in memory for decoding. None of them raises for bad input: the
reason goes into ``FileHashes.error`` (the text starts with the name of the
`safeguard.domain.errors` class) and everything that could still be computed is kept, so
a corrupt image still has its MD5, SHA-1 and SHA-256.

Memory bound per call: one chunk (``HashOptions.chunk_size``) for non-images; for images,
the encoded file up to ``HashOptions.max_image_bytes`` (larger images are digested but not
decoded) plus the decoded pixels, which ``HashOptions.max_image_pixels`` bounds (at most
3 bytes per pixel; it counts the pixels actually decoded, so on the fast path, which decodes
large JPEGs at reduced scale, a JPEG may declare up to 64 times as many). Images whose
declared size and bit depth could not come from their encoded size
(``HashOptions.max_expansion``) are refused before decoding.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import BinaryIO

from safeguard.domain.errors import (
    CorruptMediaError,
    EmptyFileError,
    InputError,
    MediaTooLargeError,
    UnreadableFileError,
)
from safeguard.domain.file_hashes import FileHashes
from safeguard.domain.media import OCTET_STREAM, SNIFF_BYTES, MediaKind, MediaType, sniff_media_type
from safeguard.hashing.contract import HashOptions
from safeguard.hashing.cryptographic import MultiDigest
from safeguard.hashing.image_decoding import check_expansion, open_image
from safeguard.hashing.pdq import (
    JPEG_MAX_REDUCTION,
    pdq_dihedral_of_pixels,
    pdq_of_pixels,
    pixels_for_pdq,
)
from safeguard.hashing.recovery import recovery_hashes

# "BM" is too weak a magic to call a file a bitmap (text starts with it too): a real BMP
# also has a known DIB header size at offset 14.
_BMP_DIB_HEADER_SIZES = frozenset({12, 16, 40, 52, 56, 64, 108, 124})


def hash_file(path: Path, options: HashOptions, display_path: str | None = None) -> FileHashes:
    """Hash one file on disk, reading it once.

    The file is opened read-only, without updating its access time where the operating
    system allows, and only if it is a regular file (a FIFO or device would block or never
    end). Symbolic links are followed; a broken one is reported as unreadable.

    Args:
        path: the file to read.
        options: which hashes and limits.
        display_path: the path to record in the result; ``str(path)`` when None.
    """
    shown = str(path) if display_path is None else display_path
    try:
        fd = _open_read_only(path)
    except OSError as exc:
        return _failed(shown, UnreadableFileError(f"cannot open: {_os_reason(exc)}"))
    try:
        st = os.fstat(fd)
        if not _is_regular(st.st_mode):
            return _failed(shown, UnreadableFileError("not a regular file"))
        stream = os.fdopen(fd, "rb", buffering=0)
    except OSError as exc:
        os.close(fd)
        return _failed(shown, UnreadableFileError(f"cannot read: {_os_reason(exc)}"))
    with stream:
        return _hash_sequential(stream.readinto, shown, options)


def hash_stream(stream: BinaryIO, display_path: str, options: HashOptions) -> FileHashes:
    """Hash a binary stream (a file inside an archive or disk image) in one sequential read.

    The stream is read to its end and not closed. It need not be seekable. Bytes are kept
    for decoding only when the content sniffs as an image and PDQ is wanted, and only up to
    ``options.max_image_bytes`` (see the module docstring for the memory bound).
    """
    readinto = getattr(stream, "readinto", None)
    if readinto is None:
        readinto = _readinto_from_read(stream)
    return _hash_sequential(readinto, display_path, options)


def hash_bytes(data: bytes, display_path: str, options: HashOptions) -> FileHashes:
    """Hash content already in memory (an upload); no copy of `data` is made."""
    digest = MultiDigest(options.cryptographic)
    digest.update(data)
    return _finish(display_path, options, digest, data[:SNIFF_BYTES], data, too_big=False)


def _hash_sequential(
    readinto: Callable[[memoryview], int | None], shown: str, options: HashOptions
) -> FileHashes:
    digest = MultiDigest(options.cryptographic)
    buffer = bytearray(options.chunk_size)
    view = memoryview(buffer)
    # Until SNIFF_BYTES have been seen the content type is unknown: `pending` holds what
    # was read so far (everything if PDQ is wanted, else just the header).
    pending: bytearray | None = bytearray()
    header = b""
    kept: bytearray | None = None
    too_big = False
    try:
        while count := readinto(view):
            chunk = view[:count]
            digest.update(chunk)
            if pending is not None:
                if not pending and count >= SNIFF_BYTES:
                    # The usual case: the first read holds the header; copy only images.
                    header = bytes(chunk[:SNIFF_BYTES])
                    if options.wants_pdq and _is_image(header):
                        kept = bytearray(chunk)
                else:
                    pending += chunk if options.wants_pdq else chunk[:SNIFF_BYTES]
                    if len(pending) < SNIFF_BYTES:
                        continue
                    header = bytes(pending[:SNIFF_BYTES])
                    if options.wants_pdq and _is_image(header):
                        kept = pending
                pending = None
            elif kept is not None:
                kept += chunk
            if kept is not None and len(kept) > options.max_image_bytes:
                kept, too_big = None, True
    except OSError as exc:
        return _failed(shown, UnreadableFileError(f"read failed: {_os_reason(exc)}"))
    finally:
        view.release()
    if pending is not None:  # Shorter than SNIFF_BYTES.
        header = bytes(pending)
        if _is_image(header) and options.wants_pdq:
            kept = pending
    return _finish(shown, options, digest, header, kept, too_big)


def _is_image(header: bytes) -> bool:
    return sniff_media_type(header).kind is MediaKind.IMAGE


def _finish(
    shown: str,
    options: HashOptions,
    digest: MultiDigest,
    header: bytes,
    content: bytes | bytearray | None,
    too_big: bool,
) -> FileHashes:
    digests = digest.hexdigests()
    size = digest.size
    if size == 0:
        empty = EmptyFileError("file is empty (0 bytes)")
        return FileHashes(
            shown, 0, digests, error=_describe(empty), pdq_floor=options.pdq_quality_floor
        )
    media = sniff_media_type(header)
    if media.mime == "image/bmp" and not _plausible_bmp(header):
        media = OCTET_STREAM
    result = FileHashes(
        shown, size, digests, media_type=media.mime, pdq_floor=options.pdq_quality_floor
    )
    if media.kind is not MediaKind.IMAGE or not options.wants_pdq:
        return result
    if too_big or (content is not None and len(content) > options.max_image_bytes):
        too_large = MediaTooLargeError(
            f"{media.mime} file of {size:,} bytes is over the {options.max_image_bytes:,}-byte "
            "limit for decoding; cryptographic digests only"
        )
        return _with_error(result, too_large)
    if content is None:  # Unreachable for images; kept so a logic slip shows, not crashes.
        return _with_error(result, CorruptMediaError("image bytes were not kept for decoding"))
    return _with_pdq(result, media, bytes(content), options)


def _with_pdq(
    result: FileHashes, media: MediaType, content: bytes, options: HashOptions
) -> FileHashes:
    try:
        # The fast path decodes JPEGs at down to 1/8 of a side, so their declared size may
        # be larger; what is decoded is checked against the limit before decoding.
        reducible = options.pdq_mode == "fast" and media.mime == "image/jpeg"
        declared_limit = options.max_image_pixels * (JPEG_MAX_REDUCTION if reducible else 1)
        image = open_image(content, media.mime, declared_limit)
        with image:
            check_expansion(image, len(content), options.max_expansion)
            pixels = pixels_for_pdq(image, options.pdq_mode, options.max_image_pixels)
        if options.dihedral:
            hashes, quality = pdq_dihedral_of_pixels(pixels)
            pdq, variants = hashes[0], tuple(hashes[1:])
        else:
            (pdq, quality), variants = pdq_of_pixels(pixels), ()
        regions = (
            tuple(
                pair
                for region in recovery_hashes(pixels, options.pdq_quality_floor, options.dihedral)
                for pair in region.labelled()
            )
            if options.recovery
            else ()
        )
    except InputError as exc:
        return _with_error(result, exc)
    except Exception as exc:  # Never let one odd file stop a job.
        return _with_error(result, CorruptMediaError(f"cannot hash image: {exc!r}"))
    return _replace(
        result, pdq=pdq, pdq_quality=quality, pdq_variants=variants, pdq_regions=regions
    )


def _plausible_bmp(header: bytes) -> bool:
    return int.from_bytes(header[14:18], "little") in _BMP_DIB_HEADER_SIZES


def _replace(result: FileHashes, **changes: object) -> FileHashes:
    return replace(result, **changes)  # type: ignore[arg-type]


def _with_error(result: FileHashes, error: InputError) -> FileHashes:
    return _replace(result, error=_describe(error))


def _failed(shown: str, error: InputError) -> FileHashes:
    return FileHashes(shown, None, error=_describe(error))


def _describe(error: InputError) -> str:
    return f"{type(error).__name__}: {error}"


def _os_reason(exc: OSError) -> str:
    return exc.strerror or str(exc) or type(exc).__name__


def _is_regular(mode: int) -> bool:
    return stat.S_ISREG(mode)


_BASE_FLAGS = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NONBLOCK", 0)
_NOATIME = getattr(os, "O_NOATIME", 0)


def _open_read_only(path: Path) -> int:
    # O_NONBLOCK: opening a FIFO must not hang (regular files ignore it).
    # O_NOATIME: examining evidence should not change it; only the owner may ask for it.
    if _NOATIME:
        try:
            return os.open(path, _BASE_FLAGS | _NOATIME)
        except PermissionError:
            pass
    return os.open(path, _BASE_FLAGS)


def _readinto_from_read(stream: BinaryIO) -> Callable[[memoryview], int]:
    def readinto(view: memoryview) -> int:
        data = stream.read(len(view))
        view[: len(data)] = data
        return len(data)

    return readinto
