"""Benign pictures for the robustness benchmark, all from packages or generated, all seeded.

* Known originals stand in for listed content: photos that ship inside scikit-image,
  scikit-learn and matplotlib, the left part of the Hubble deep field, and generated
  `synthetic_photo` pictures.
* Distinct pictures are never derived from a known one: other package photos, the right
  part of the Hubble field (no overlap with the left part), generated photos with other
  seeds. ``motorcycle_right`` is left out: it is a stereo twin of ``motorcycle_left``.
* The large distinct set (thousands) adds random crops of the distinct photos, generated
  photos, textures (gratings, checkerboards, smooth noise, gradients) and near-uniform
  pictures.
"""

from __future__ import annotations

import os
import random
from pathlib import Path

import numpy as np
from PIL import Image

from safeguard.services.demo.pictures import synthetic_photo

MAX_SIDE = 640
HUBBLE_SPLIT = (0, 480, 520)  # known: columns 0..480; distinct: 520.. (a 40-pixel gap)


def _skimage(name: str) -> Image.Image:
    import skimage.data

    return Image.open(Path(os.path.dirname(skimage.data.__file__)) / name)


def _capped(image: Image.Image) -> Image.Image:
    image = image.convert("RGB")
    scale = max(image.size) / MAX_SIDE
    if scale > 1:
        image = image.resize(
            (round(image.width / scale), round(image.height / scale)), Image.Resampling.LANCZOS
        )
    return image


def _sklearn(name: str) -> Image.Image:
    from sklearn.datasets import load_sample_images

    images = load_sample_images()
    for path, pixels in zip(images.filenames, images.images, strict=True):
        if Path(path).name == name:
            return Image.fromarray(pixels)
    raise KeyError(name)


def _matplotlib(name: str) -> Image.Image:
    import matplotlib

    return Image.open(Path(matplotlib.get_data_path()) / "sample_data" / name)


def _hubble() -> Image.Image:
    return _skimage("hubble_deep_field.jpg").convert("RGB")


def known_originals(synthetic: int = 8) -> dict[str, Image.Image]:
    """Pictures treated as the known list (stand-ins for listed content)."""
    photos = {
        "astronaut": _skimage("astronaut.png"),
        "coffee": _skimage("coffee.png"),
        "chelsea": _skimage("chelsea.png"),
        "rocket": _skimage("rocket.jpg"),
        "camera": _skimage("camera.png"),
        "coins": _skimage("coins.png"),
        "motorcycle": _skimage("motorcycle_left.png"),
        "retina": _skimage("retina.jpg"),
        "ihc": _skimage("ihc.png"),
        "brick": _skimage("brick.png"),
        "china": _sklearn("china.jpg"),
        "flower": _sklearn("flower.jpg"),
        "grace_hopper": _matplotlib("grace_hopper.jpg"),
        "hubble-left": _hubble().crop((0, 0, HUBBLE_SPLIT[1], 872)),
    }
    originals = {name: _capped(image) for name, image in photos.items()}
    for seed in range(1, synthetic + 1):
        originals[f"synthetic-{seed}"] = synthetic_photo(seed, 640, 480)
    return originals


def distinct_pictures(synthetic: int = 30) -> dict[str, Image.Image]:
    """Pictures that are not on the list and share no pixels with a known one."""
    hubble = _hubble()
    right = hubble.crop((HUBBLE_SPLIT[2], 0, hubble.width, hubble.height))
    photos = {
        "moon": _skimage("moon.png"),
        "grass": _skimage("grass.png"),
        "gravel": _skimage("gravel.png"),
        "cell": _skimage("cell.png"),
        "clock": _skimage("clock_motion.png"),
        "phantom": _skimage("phantom.png"),
        "color": _skimage("color.png"),
        "horse": _skimage("horse.png"),
        "logo": _skimage("logo.png"),
        "text": _skimage("text.png"),
        "page": _skimage("page.png"),
        "chessboard": _skimage("chessboard_RGB.png"),
        "hubble-right-top": right.crop((0, 0, right.width, right.height // 2)),
        "hubble-right-bottom": right.crop((0, right.height // 2, right.width, right.height)),
    }
    pictures = {name: _capped(image) for name, image in photos.items()}
    for seed in range(101, 101 + synthetic):
        pictures[f"synthetic-{seed}"] = synthetic_photo(seed, 640, 480)
    return pictures


def _texture(rng: random.Random, size: tuple[int, int]) -> np.ndarray:
    w, h = size
    nrng = np.random.default_rng(rng.randrange(2**32))
    kind = rng.choice(["grating", "checker", "smooth-noise", "gradient"])
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    if kind == "grating":
        angle, period = rng.uniform(0, np.pi), rng.uniform(4, 80)
        wave = np.sin((x * np.cos(angle) + y * np.sin(angle)) * 2 * np.pi / period)
        grey = 128 + 100 * wave
    elif kind == "checker":
        cell = rng.randint(4, 64)
        grey = ((x // cell + y // cell) % 2) * 200 + 28
    elif kind == "smooth-noise":
        coarse = nrng.uniform(0, 255, size=(rng.randint(2, 24), rng.randint(2, 24), 3))
        up = Image.fromarray(coarse.astype(np.uint8)).resize(size, Image.Resampling.BICUBIC)
        return np.asarray(up)
    else:
        grey = (x * rng.uniform(-1, 1) + y * rng.uniform(-1, 1)) % 255
    tint = np.array([rng.uniform(0.5, 1.0) for _ in range(3)], dtype=np.float32)
    pixels = grey[..., None] * tint + nrng.normal(0, 4, size=(h, w, 3))
    return np.clip(pixels, 0, 255).astype(np.uint8)


def _near_uniform(rng: random.Random, size: tuple[int, int]) -> np.ndarray:
    w, h = size
    nrng = np.random.default_rng(rng.randrange(2**32))
    base = np.array([rng.randint(0, 255) for _ in range(3)], dtype=np.float32)
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    ramp = (x / w * rng.uniform(-12, 12) + y / h * rng.uniform(-12, 12))[..., None]
    pixels = base + ramp + nrng.normal(0, rng.uniform(0.5, 5), size=(h, w, 3))
    if rng.random() < 0.5:  # A small object on a plain ground: a logo, an icon.
        x0, y0 = rng.randrange(w - w // 6), rng.randrange(h - h // 6)
        pixels[y0 : y0 + h // 8, x0 : x0 + w // 8] = [rng.randint(0, 255) for _ in range(3)]
    return np.clip(pixels, 0, 255).astype(np.uint8)


def large_distinct_set(count: int, seed: int = 7) -> list[tuple[str, np.ndarray]]:
    """`count` distinct pictures of 160-320 pixels a side: (kind, RGB pixels)."""
    rng = random.Random(seed)
    sources = [np.asarray(image) for image in distinct_pictures(synthetic=0).values()]
    sources = [s for s in sources if min(s.shape[:2]) >= 160]
    out: list[tuple[str, np.ndarray]] = []
    for index in range(count):
        size = (rng.randint(160, 320), rng.randint(160, 320))
        kind = ("photo-crop", "synthetic-photo", "texture", "near-uniform")[index % 4]
        if kind == "photo-crop":
            source = rng.choice(sources)
            h, w = source.shape[:2]
            cw, ch = rng.randint(w // 4, w), rng.randint(h // 4, h)
            x0, y0 = rng.randint(0, w - cw), rng.randint(0, h - ch)
            crop = Image.fromarray(source[y0 : y0 + ch, x0 : x0 + cw]).resize(size)
            if rng.random() < 0.5:
                crop = crop.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
            out.append((kind, np.asarray(crop.convert("RGB"))))
        elif kind == "synthetic-photo":
            out.append((kind, np.asarray(synthetic_photo(10_000 + index, *size))))
        elif kind == "texture":
            out.append((kind, _texture(rng, size)))
        else:
            out.append((kind, _near_uniform(rng, size)))
    return out
