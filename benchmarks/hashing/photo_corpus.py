"""A seeded, benign, photo-like JPEG corpus of realistic sizes, cached on disk.

Size classes (equal thirds in the benchmark):

* ``L``: 12 MP phone photos, 4032x3024 (a quarter portrait, 3024x4032);
* ``M``: 2 MP, 1920x1080 (a quarter portrait);
* ``S``: 0.3 MP, 640x480 (a quarter portrait).

Each picture is, by seed: a random crop (40-100 %) of a real photo that ships inside a
Python package (scikit-image ``astronaut``, ``coffee``, ``chelsea``, ``rocket``,
``hubble_deep_field``, ``immunohistochemistry``, ``retina``; scikit-learn ``china`` and
``flower``; matplotlib ``grace_hopper``), or a 2x2 mosaic of such crops, or Safeguard's
own `synthetic_photo`; resized bicubically to the target size, randomly mirrored, colour
jittered, then given Gaussian sensor noise (sigma 2-6) so that upscaled content has the
high-frequency detail, and so the file sizes, of camera JPEGs (12 MP files are MBs).
Encoded with quality 80-95, 4:2:0 chroma subsampling (10 % 4:4:4), 15 % progressive.
These photos stand in for listed content; none depicts abuse.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageEnhance
from platformdirs import user_cache_dir

from safeguard.services.demo.pictures import synthetic_photo

SIZES: dict[str, tuple[int, int]] = {"L": (4032, 3024), "M": (1920, 1080), "S": (640, 480)}
DEFAULT_CACHE = Path(user_cache_dir("safeguard-bench")) / "hashing-corpus-v1"


@cache
def _sources() -> tuple[np.ndarray, ...]:
    import matplotlib.cbook
    import skimage.data
    from sklearn.datasets import load_sample_images

    names = [
        "astronaut", "coffee", "chelsea", "rocket", "hubble_deep_field",
        "immunohistochemistry", "retina",
    ]  # fmt: skip
    photos = [np.asarray(getattr(skimage.data, name)()) for name in names]
    photos.extend(np.asarray(img) for img in load_sample_images().images)
    with matplotlib.cbook.get_sample_data("grace_hopper.jpg") as handle:
        photos.append(np.asarray(Image.open(handle).convert("RGB")))
    return tuple(p[:, :, :3].astype(np.uint8) for p in photos)


def _crop(rng: random.Random, width: int, height: int) -> Image.Image:
    source = Image.fromarray(rng.choice(_sources()))
    share = rng.uniform(0.4, 1.0)
    w, h = max(16, int(source.width * share)), max(16, int(source.height * share))
    x, y = rng.randrange(source.width - w + 1), rng.randrange(source.height - h + 1)
    return source.crop((x, y, x + w, y + h)).resize((width, height), Image.Resampling.BICUBIC)


def make_photo(seed: int, width: int, height: int) -> Image.Image:
    """The benign photo-like picture for `seed` at the given size."""
    rng = random.Random(seed)
    kind = rng.random()
    if kind < 0.55:
        image = _crop(rng, width, height)
    elif kind < 0.8:
        image = Image.new("RGB", (width, height))
        hw, hh = width // 2, height // 2
        for x, y in ((0, 0), (hw, 0), (0, hh), (hw, hh)):
            image.paste(_crop(rng, width - hw if x else hw, height - hh if y else hh), (x, y))
    else:
        image = synthetic_photo(seed, width, height)
    if rng.random() < 0.5:
        image = image.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    image = ImageEnhance.Color(image).enhance(rng.uniform(0.7, 1.3))
    image = ImageEnhance.Brightness(image).enhance(rng.uniform(0.85, 1.15))
    noise_rng = np.random.default_rng(seed)
    sigma = rng.uniform(2.0, 6.0)
    pixels = np.asarray(image, dtype=np.float32)
    pixels += noise_rng.standard_normal(pixels.shape, dtype=np.float32) * sigma
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB")


def _jpeg_params(seed: int) -> dict[str, object]:
    rng = random.Random(seed * 7 + 1)
    return {
        "quality": rng.randint(80, 95),
        "subsampling": 0 if rng.random() < 0.1 else 2,
        "progressive": rng.random() < 0.15,
    }


def corpus(per_class: int, cache: Path = DEFAULT_CACHE) -> dict[str, list[Path]]:
    """Paths of `per_class` JPEGs per size class, generating the missing ones into `cache`."""
    return {size: list(_class_files(size, per_class, cache)) for size in SIZES}


def _class_files(size: str, count: int, cache: Path) -> Iterator[Path]:
    width, height = SIZES[size]
    folder = cache / size
    folder.mkdir(parents=True, exist_ok=True)
    for index in range(count):
        seed = {"L": 1_000_000, "M": 2_000_000, "S": 3_000_000}[size] + index
        path = folder / f"{size}-{index:04d}.jpg"
        if not path.exists():
            w, h = (height, width) if index % 4 == 3 else (width, height)
            partial = path.with_suffix(".part")
            make_photo(seed, w, h).save(partial, format="JPEG", **_jpeg_params(seed))
            partial.rename(path)
        yield path
