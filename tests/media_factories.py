"""Write benign test images in every format Safeguard recognises.

Every picture comes from `safeguard.services.demo.pictures.synthetic_photo` (seeded gradients,
shapes and noise) and stands in for listed content; nothing here depicts anyone. Each
writer returns the path it wrote. Shared by the hashing, extraction and service tests.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import pillow_heif
from PIL import Image

from safeguard.services.demo.pictures import synthetic_photo

pillow_heif.register_heif_opener()


def photo(seed: int = 1, width: int = 320, height: int = 240) -> Image.Image:
    """The benign stand-in picture for `seed`."""
    return synthetic_photo(seed, width, height)


def _save(path: Path, image: Image.Image, fmt: str, **params: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, format=fmt, **params)
    return path


def write_jpeg(
    path: Path, seed: int = 1, width: int = 320, height: int = 240, **params: object
) -> Path:
    """Baseline JPEG, quality 90 unless `params` say otherwise."""
    params.setdefault("quality", 90)
    return _save(path, photo(seed, width, height), "JPEG", **params)


def write_png(path: Path, seed: int = 1, width: int = 320, height: int = 240) -> Path:
    """RGB PNG."""
    return _save(path, photo(seed, width, height), "PNG")


def write_bmp(path: Path, seed: int = 1, width: int = 320, height: int = 240) -> Path:
    """24-bit BMP."""
    return _save(path, photo(seed, width, height), "BMP")


def write_webp(path: Path, seed: int = 1, width: int = 320, height: int = 240) -> Path:
    """Lossless WebP (so decoded pixels are the synthetic ones exactly)."""
    return _save(path, photo(seed, width, height), "WEBP", lossless=True)


def write_heic(path: Path, seed: int = 1, width: int = 320, height: int = 240) -> Path:
    """HEIC through pillow-heif."""
    return _save(path, photo(seed, width, height), "HEIF", quality=90)


def write_avif(path: Path, seed: int = 1, width: int = 320, height: int = 240) -> Path:
    """AVIF through Pillow's own plugin."""
    return _save(path, photo(seed, width, height), "AVIF", quality=90)


def write_gif(
    path: Path, seed: int = 1, width: int = 320, height: int = 240, frames: int = 3
) -> Path:
    """Animated GIF whose frames are different pictures (seed, seed+1, ...)."""
    pictures = [photo(seed + i, width, height).quantize(colors=256) for i in range(frames)]
    return _save(
        path, pictures[0], "GIF", save_all=True, append_images=pictures[1:], duration=100, loop=0
    )


def write_tiff(
    path: Path, seed: int = 1, width: int = 320, height: int = 240, pages: int = 3
) -> Path:
    """Multi-page TIFF whose pages are different pictures (seed, seed+1, ...)."""
    pictures = [photo(seed + i, width, height) for i in range(pages)]
    return _save(path, pictures[0], "TIFF", save_all=True, append_images=pictures[1:])


WRITERS: dict[str, Callable[..., Path]] = {
    "image/jpeg": write_jpeg,
    "image/png": write_png,
    "image/gif": write_gif,
    "image/webp": write_webp,
    "image/bmp": write_bmp,
    "image/tiff": write_tiff,
    "image/heic": write_heic,
    "image/avif": write_avif,
}
"""Writer per MIME type, each `(path, seed=1, width=320, height=240) -> path`."""

SUFFIXES: dict[str, str] = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/gif": ".gif",
    "image/webp": ".webp",
    "image/bmp": ".bmp",
    "image/tiff": ".tif",
    "image/heic": ".heic",
    "image/avif": ".avif",
}


def write_image(folder: Path, mime: str, name: str = "image", seed: int = 1, **size: int) -> Path:
    """Write one image of type `mime` into `folder` as ``name`` + the usual suffix."""
    return WRITERS[mime](folder / f"{name}{SUFFIXES[mime]}", seed, **size)


def truncated_jpeg(path: Path, seed: int = 1, keep: float = 0.5) -> Path:
    """A JPEG cut off after `keep` of its bytes."""
    data = io.BytesIO()
    photo(seed).save(data, format="JPEG", quality=90)
    raw = data.getvalue()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(raw[: int(len(raw) * keep)])
    return path


def garbage_with_jpeg_magic(path: Path, size: int = 4096) -> Path:
    """JPEG start-of-image and APP0 markers followed by noise."""
    path.parent.mkdir(parents=True, exist_ok=True)
    noise = bytes((i * 7919 + 13) % 251 for i in range(size))
    path.write_bytes(b"\xff\xd8\xff\xe0" + noise)
    return path
