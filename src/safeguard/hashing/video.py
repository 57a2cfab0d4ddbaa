"""PDQ hashes of frames sampled from a video, so a video containing a known picture is found.

Frames are decoded with PyAV (FFmpeg) in order. A frame is hashed when it is the first at or
after the next sampling time (every `VideoSampling.interval_seconds`), and, when asked, when
it is a keyframe (scene cuts are usually keyframes). Each hash carries the frame's
presentation time, so a match can say where in the video the picture is.

Frames larger than `VideoSampling.max_side` are scaled down before hashing: PDQ works on a
64 x 64 reduction anyway, and this keeps long, high-resolution videos affordable.
"""

from __future__ import annotations

import shutil
import tempfile
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from safeguard.domain.errors import CorruptMediaError, UnsupportedMediaError
from safeguard.domain.extras import import_extra
from safeguard.hashing.pdq import pdq_of_pixels

_SPOOL_MEMORY_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class VideoSampling:
    """Which frames to hash.

    Attributes:
        interval_seconds: hash one frame per interval (the first frame at or after each mark).
        include_keyframes: also hash every keyframe.
        max_frames: stop after this many hashed frames.
        max_side: frames are scaled so their longer side is at most this before hashing.
    """

    interval_seconds: float = 1.0
    include_keyframes: bool = True
    max_frames: int = 600
    max_side: int = 512

    def __post_init__(self) -> None:
        if self.interval_seconds <= 0 or self.max_frames <= 0 or self.max_side < 64:
            raise ValueError("interval_seconds and max_frames must be positive, max_side >= 64")


@dataclass(frozen=True, slots=True)
class VideoFrameHash:
    """The PDQ hash of one sampled frame.

    Attributes:
        time_seconds: presentation time of the frame from the start of the stream.
        pdq: 64 hex digits.
        quality: PDQ quality 0-100 (below 50: do not use for matching).
        keyframe: True when the frame is a keyframe.
    """

    time_seconds: float
    pdq: str
    quality: int
    keyframe: bool = False


@dataclass(frozen=True, slots=True)
class VideoHashes:
    """Every sampled frame's hash, and why sampling stopped early, if it did.

    Attributes:
        frames: hashes in presentation order.
        duration_seconds: the container's stated duration, when known.
        error: set when decoding failed part-way (the frames before the failure are kept).
        truncated: True when `VideoSampling.max_frames` stopped the sampling.
    """

    frames: tuple[VideoFrameHash, ...]
    duration_seconds: float | None = None
    error: str | None = None
    truncated: bool = False


def hash_video(source: Path | BinaryIO, sampling: VideoSampling | None = None) -> VideoHashes:
    """Sample frames of the first video stream of `source` and PDQ-hash each.

    Args:
        source: a video file path or a binary stream; a stream that cannot seek is first
            copied to a private spool (memory up to 64 MiB, then a temporary file).
        sampling: which frames to hash; defaults to one per second plus keyframes.

    Raises:
        UnsupportedMediaError: the content has no video stream.
        CorruptMediaError: the content cannot be opened as a video, or no frame decodes.
        Errors raised by reading `source` itself (e.g. `EvidenceError`) propagate.
    """
    av = import_extra("av", "video", "video frames")
    sampling = sampling or VideoSampling()
    with ExitStack() as stack:
        readable = source if isinstance(source, Path) else _seekable(source, stack)
        try:
            container = av.open(str(readable) if isinstance(readable, Path) else readable, mode="r")
        except (av.FFmpegError, OSError, ValueError) as exc:
            raise CorruptMediaError(f"not a readable video: {exc}") from exc
        return _hash_container(container, sampling)


def _seekable(stream: BinaryIO, stack: ExitStack) -> BinaryIO:
    """`stream` itself when it can seek, else a private spool of its content.

    MP4 and MOV often keep their index at the end, which FFmpeg can only reach by seeking.
    """
    try:
        if stream.seekable():
            return stream
    except (OSError, ValueError):
        pass
    spool = stack.enter_context(tempfile.SpooledTemporaryFile(max_size=_SPOOL_MEMORY_BYTES))  # noqa: SIM115
    shutil.copyfileobj(stream, spool, 1024 * 1024)
    spool.seek(0)
    return spool  # type: ignore[return-value]


def _hash_container(container: Any, sampling: VideoSampling) -> VideoHashes:
    with container:
        if not container.streams.video:
            raise UnsupportedMediaError("no video stream")
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        duration = float(container.duration) / 1_000_000 if container.duration else None
        frames, error, truncated = _sample(container, stream, sampling)
    if not frames:
        raise CorruptMediaError(f"no video frame could be decoded: {error or 'empty stream'}")
    return VideoHashes(tuple(frames), duration, error, truncated)


def _sample(
    container: Any, stream: Any, sampling: VideoSampling
) -> tuple[list[VideoFrameHash], str | None, bool]:
    import av

    frames: list[VideoFrameHash] = []
    next_mark = 0.0
    try:
        for frame in container.decode(stream):
            time = float(frame.time) if frame.time is not None else next_mark
            due = time >= next_mark - 1e-6
            keyframe = bool(frame.key_frame)
            if not (due or (sampling.include_keyframes and keyframe)):
                continue
            if due:
                while next_mark <= time + 1e-6:
                    next_mark += sampling.interval_seconds
            pdq, quality = pdq_of_pixels(_pixels(frame, sampling.max_side))
            frames.append(VideoFrameHash(round(time, 3), pdq, quality, keyframe))
            if len(frames) >= sampling.max_frames:
                return frames, None, True
    except (av.FFmpegError, OSError, ValueError, MemoryError) as exc:
        return frames, f"decoding stopped: {exc}", False
    return frames, None, False


def _pixels(frame: Any, max_side: int) -> Any:
    width, height = frame.width, frame.height
    scale = max_side / max(width, height)
    if scale < 1:
        width, height = max(1, round(width * scale)), max(1, round(height * scale))
        return frame.to_ndarray(format="rgb24", width=width, height=height)
    return frame.to_ndarray(format="rgb24")
