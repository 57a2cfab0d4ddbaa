"""Request bodies held in memory only: uploads never touch the disk.

Starlette's own form parser spools large files to temporary files, which would put
uploaded content on disk unencrypted; multipart bodies are parsed here, in memory, by
python-multipart's streaming parser (one pass, no copies beyond the parts themselves),
and callers run it off the event loop (`parse_multipart` is synchronous and CPU-bound).
Body size limits are `safeguard.web.request_gate.RequestGate`'s.
"""

from __future__ import annotations

from python_multipart.multipart import MultipartParser, parse_options_header

from safeguard.web.request_gate import BodyTooLargeError

__all__ = ["BodyTooLargeError", "parse_multipart"]

MAX_PARTS = 2000
"""More parts than this in one body is refused (batches allow 1000 files)."""

MAX_PART_HEADER_BYTES = 8192


def parse_multipart(body: bytes, content_type: str) -> list[tuple[str, str | None, bytes]]:
    """The parts of a ``multipart/form-data`` body as ``(field, file name, content)``.

    Raises:
        ValueError: the body is not multipart, has no boundary, is malformed, or has more
            than `MAX_PARTS` parts.
    """
    kind, params = parse_options_header(content_type)
    if not kind.lower().startswith(b"multipart/"):
        raise ValueError("expected a multipart/form-data body")
    boundary = params.get(b"boundary")
    if not boundary:
        raise ValueError("the multipart body has no boundary")
    parts: list[tuple[str, str | None, bytes]] = []
    header_name = bytearray()
    header_value = bytearray()
    headers: dict[bytes, bytes] = {}
    # Views into the body, joined once at the part's end: one copy of each part, where
    # growing a bytearray and converting it would make two (and over-allocate).
    content: list[memoryview] = []
    header_bytes = 0

    def on_part_begin() -> None:
        nonlocal header_bytes
        if len(parts) >= MAX_PARTS:
            raise ValueError(f"more than {MAX_PARTS} parts in one body")
        headers.clear()
        content.clear()
        header_bytes = 0

    def on_header_field(data: bytes, start: int, end: int) -> None:
        nonlocal header_bytes
        header_bytes += end - start
        if header_bytes > MAX_PART_HEADER_BYTES:
            raise ValueError("a part's headers are too long")
        header_name.extend(data[start:end])

    def on_header_value(data: bytes, start: int, end: int) -> None:
        nonlocal header_bytes
        header_bytes += end - start
        if header_bytes > MAX_PART_HEADER_BYTES:
            raise ValueError("a part's headers are too long")
        header_value.extend(data[start:end])

    def on_header_end() -> None:
        headers[bytes(header_name).lower()] = bytes(header_value)
        header_name.clear()
        header_value.clear()

    def on_part_data(data: bytes, start: int, end: int) -> None:
        if isinstance(data, bytes):  # the body itself: immutable, a view is safe
            content.append(memoryview(data)[start:end])
        else:  # the parser's own look-behind buffer, reused: copy the few bytes
            content.append(memoryview(bytes(data[start:end])))

    def on_part_end() -> None:
        _, options = parse_options_header(headers.get(b"content-disposition", b""))
        field = options.get(b"name", b"").decode("utf-8", "replace")
        file_name = options.get(b"filename")
        parts.append(
            (
                field,
                None if file_name is None else file_name.decode("utf-8", "replace"),
                b"".join(content),
            )
        )
        content.clear()

    parser = MultipartParser(
        boundary,
        callbacks={
            "on_part_begin": on_part_begin,
            "on_header_field": on_header_field,
            "on_header_value": on_header_value,
            "on_header_end": on_header_end,
            "on_part_data": on_part_data,
            "on_part_end": on_part_end,
        },
    )
    try:
        parser.write(body)
        parser.finalize()
    except ValueError:
        raise
    except Exception as exc:  # python-multipart raises its own error types
        raise ValueError(f"the multipart body could not be parsed: {type(exc).__name__}") from exc
    return parts
