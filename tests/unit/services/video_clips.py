"""Generated MPEG-4 clips of benign stand-in pictures for the scan's video tests."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import av
import numpy as np

from safeguard.services.demo.pictures import synthetic_photo


def write_clip(
    path: Path,
    scenes: Sequence[tuple[int, float]],
    fps: int = 4,
    size: tuple[int, int] = (320, 240),
) -> Path:
    """Write a clip showing `synthetic_photo(seed)` for `seconds`, for each (seed, seconds)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    width, height = size
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("mpeg4", rate=fps)
        stream.width, stream.height = width, height
        stream.pix_fmt = "yuv420p"
        stream.bit_rate = 2_000_000
        for seed, seconds in scenes:
            pixels = np.asarray(synthetic_photo(seed, width, height))
            for _ in range(round(seconds * fps)):
                frame = av.VideoFrame.from_ndarray(pixels, format="rgb24")
                for packet in stream.encode(frame):
                    container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path
