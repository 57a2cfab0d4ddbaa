"""Thumbnails for the review grid: blurred (and greyscale) unless a reveal was asked for.

Nothing here writes to disk: thumbnails are made from the exhibit's bytes on each request
and returned; the only copies are in the HTTP response (sent with ``no-store``).
Videos become a contact sheet of frames sampled evenly through them.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from typing import Any

from PIL import Image, ImageFilter, ImageOps

THUMB_SIDE = 160
"""Longest side of a grid thumbnail, in pixels."""

REVEAL_SIDE = 640
"""Longest side of a revealed picture: enough to grade, never the full original."""

MIN_BLUR = 4.0
"""The weakest blur a user may choose (Gaussian radius at `THUMB_SIDE`); below it detail shows."""

DEFAULT_BLUR = 8.0
MAX_BLUR = 24.0
CONTACT_FRAMES = 6


class ThumbnailError(Exception):
    """The content cannot be decoded into a picture."""


@dataclass(frozen=True, slots=True)
class ViewSettings:
    """How one examiner wants thumbnails: blur radius and greyscale."""

    blur: float = DEFAULT_BLUR
    greyscale: bool = True

    def __post_init__(self) -> None:
        # Clamped here, whatever a preference or a request says: never sharper than MIN_BLUR.
        object.__setattr__(self, "blur", min(MAX_BLUR, max(MIN_BLUR, float(self.blur))))


def _open_picture(data: bytes, side: int) -> Image.Image:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                image.draft("RGB", (side * 2, side * 2))
                picture = ImageOps.exif_transpose(image).convert("RGB")
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombWarning) as exc:
        raise ThumbnailError(f"cannot decode: {type(exc).__name__}") from exc
    picture.thumbnail((side, side))
    return picture


def _video_frames(data: bytes, side: int, count: int) -> list[Image.Image]:
    try:
        import av
    except ImportError as exc:  # pragma: no cover - the video extra is installed in CI
        raise ThumbnailError("video support (PyAV) is not installed") from exc
    frames: list[Image.Image] = []
    try:
        opened: Any = av.open(io.BytesIO(data))
        with opened as container:
            stream: Any = container.streams.video[0]
            # Audio is never decoded: the grid has no sound at all.
            duration = float(stream.duration * stream.time_base) if stream.duration else 0.0
            if duration <= 0 and container.duration:
                duration = container.duration / 1_000_000
            targets = [duration * (i + 0.5) / count for i in range(count)] if duration else [0.0]
            decoded = container.decode(stream)
            for frame in decoded:
                time = float(frame.pts * stream.time_base) if frame.pts is not None else 0.0
                if targets and time + 1e-6 >= targets[0]:
                    picture = frame.to_image().convert("RGB")
                    picture.thumbnail((side, side))
                    frames.append(picture)
                    while targets and time + 1e-6 >= targets[0]:
                        targets.pop(0)
                if not targets:
                    break
    except (OSError, ValueError, IndexError, av.error.FFmpegError) as exc:
        raise ThumbnailError(f"cannot decode video: {type(exc).__name__}") from exc
    if not frames:
        raise ThumbnailError("no frame could be decoded")
    return frames


def _contact_sheet(frames: list[Image.Image], side: int) -> Image.Image:
    columns = 3
    rows = (len(frames) + columns - 1) // columns
    cell = side // columns
    sheet = Image.new("RGB", (cell * columns, cell * rows), (40, 40, 40))
    for index, frame in enumerate(frames):
        small = frame.copy()
        small.thumbnail((cell, cell))
        x = (index % columns) * cell + (cell - small.width) // 2
        y = (index // columns) * cell + (cell - small.height) // 2
        sheet.paste(small, (x, y))
    return sheet


def _picture(data: bytes, is_video: bool, side: int) -> Image.Image:
    if is_video:
        return _contact_sheet(_video_frames(data, side, CONTACT_FRAMES), side)
    return _open_picture(data, side)


def _jpeg(picture: Image.Image, quality: int) -> bytes:
    buffer = io.BytesIO()
    picture.save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


def blurred_thumbnail(data: bytes, is_video: bool, view: ViewSettings) -> bytes:
    """A small JPEG of the picture (or contact sheet), blurred at `view.blur` or more.

    Raises:
        ThumbnailError: the content cannot be decoded.
    """
    picture = _picture(data, is_video, THUMB_SIDE)
    if view.greyscale:
        picture = picture.convert("L")
    # Blur, then shrink and grow back: what remains is shape and colour, not detail.
    blurred = picture.filter(ImageFilter.GaussianBlur(view.blur))
    coarse = blurred.resize(
        (max(1, blurred.width // 4), max(1, blurred.height // 4)), Image.Resampling.BOX
    ).resize(blurred.size, Image.Resampling.BILINEAR)
    return _jpeg(coarse, 70)


def revealed_picture(data: bytes, is_video: bool) -> bytes:
    """The picture (or contact sheet) unblurred, at most `REVEAL_SIDE` on its longest side.

    Only for a request that carries a reveal ticket (see `ReviewService.take_reveal`).

    Raises:
        ThumbnailError: the content cannot be decoded.
    """
    return _jpeg(_picture(data, is_video, REVEAL_SIDE), 85)
