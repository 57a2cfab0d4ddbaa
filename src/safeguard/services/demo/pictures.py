"""Benign generated pictures that stand in for listed content in demos and tests.

Nothing here depicts people: the pictures are seeded mixtures of gradients, shapes and
noise with photo-like structure, so perceptual hashes have realistic quality.
"""

from __future__ import annotations

import io
import random
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter


def synthetic_photo(seed: int, width: int = 640, height: int = 480) -> Image.Image:
    """A deterministic, benign, photo-like RGB picture of the given size."""
    rng = random.Random(seed)
    nrng = np.random.default_rng(seed)
    # Low-resolution random field upscaled gives smooth, scene-like colour regions.
    base = nrng.integers(0, 256, size=(6, 8, 3), dtype=np.uint8)
    image = Image.fromarray(base).resize((width, height), Image.Resampling.BICUBIC)
    draw = ImageDraw.Draw(image)
    for _ in range(rng.randint(6, 14)):
        x0, y0 = rng.randrange(width), rng.randrange(height)
        x1 = x0 + rng.randint(width // 10, width // 2)
        y1 = y0 + rng.randint(height // 10, height // 2)
        colour = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
        if rng.random() < 0.5:
            draw.ellipse((x0, y0, x1, y1), fill=colour)
        else:
            draw.rectangle((x0, y0, x1, y1), fill=colour)
    image = image.filter(ImageFilter.GaussianBlur(radius=max(1, width // 400)))
    noise = nrng.normal(0, 4, size=(height, width, 3))
    pixels = np.clip(np.asarray(image, dtype=np.float32) + noise, 0, 255).astype(np.uint8)
    return Image.fromarray(pixels, "RGB")


def encode(image: Image.Image, fmt: str = "JPEG", **params: object) -> bytes:
    """Encode a picture to bytes in `fmt` (JPEG quality 90 unless given)."""
    buffer = io.BytesIO()
    if fmt.upper() in ("JPEG", "JPG"):
        params.setdefault("quality", 90)
    image.save(buffer, format=fmt, **params)
    return buffer.getvalue()


def write_photo(
    path: Path, seed: int, width: int = 640, height: int = 480, fmt: str = "JPEG"
) -> Path:
    """Write a synthetic photo to `path` and return it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(encode(synthetic_photo(seed, width, height), fmt))
    return path
