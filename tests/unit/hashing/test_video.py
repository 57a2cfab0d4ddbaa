from __future__ import annotations

import io
from pathlib import Path

import av
import numpy as np
import pytest

from safeguard.domain.digests import hamming_distance
from safeguard.domain.errors import CorruptMediaError
from safeguard.hashing.pdq import pdq_of_pixels
from safeguard.hashing.video import VideoSampling, hash_video
from safeguard.services.demo.pictures import synthetic_photo

FPS = 4
# (seed, seconds): the benign picture with seed 32 stands in for a listed image
SCENES = ((31, 3), (32, 2), (33, 3))


def _write_video(path: Path) -> None:
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("mpeg4", rate=FPS)
        stream.width, stream.height = 320, 240
        stream.pix_fmt = "yuv420p"
        stream.bit_rate = 2_000_000
        for seed, seconds in SCENES:
            pixels = np.asarray(synthetic_photo(seed, 320, 240))
            for _ in range(seconds * FPS):
                frame = av.VideoFrame.from_ndarray(pixels, format="rgb24")
                for packet in stream.encode(frame):
                    container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("video") / "clip.mp4"
    _write_video(path)
    return path


def test_known_picture_found_at_its_time(video: Path) -> None:
    known, _ = pdq_of_pixels(np.asarray(synthetic_photo(32, 640, 480)))
    result = hash_video(video)
    assert result.error is None
    assert result.duration_seconds == pytest.approx(8, abs=0.5)
    assert len(result.frames) >= 8
    matches = [frame for frame in result.frames if hamming_distance(frame.pdq, known) <= 31]
    assert matches
    assert all(3.0 <= frame.time_seconds < 5.0 for frame in matches)
    assert all(frame.quality >= 50 for frame in matches)


def test_sampling_interval_and_cap(video: Path) -> None:
    every_two = hash_video(video, VideoSampling(interval_seconds=2.0, include_keyframes=False))
    assert [frame.time_seconds for frame in every_two.frames] == [0.0, 2.0, 4.0, 6.0]
    capped = hash_video(video, VideoSampling(max_frames=3))
    assert len(capped.frames) == 3
    assert capped.truncated


class _ForwardOnly(io.RawIOBase):
    """A stream that cannot seek, like a member read out of a compressed archive."""

    def __init__(self, data: bytes) -> None:
        super().__init__()
        self._inner = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self._inner.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def test_stream_sources_seekable_or_not(video: Path) -> None:
    with video.open("rb") as stream:
        direct = hash_video(stream)
    forward_only = hash_video(_ForwardOnly(video.read_bytes()))  # type: ignore[arg-type]
    assert direct.frames == forward_only.frames
    assert direct.frames


def test_corrupt_video_raises_clear_error(video: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(video.read_bytes()[:2000])
    with pytest.raises(CorruptMediaError):
        hash_video(broken)
    with pytest.raises(CorruptMediaError):
        hash_video(io.BytesIO(b"\x00" * 4096))
