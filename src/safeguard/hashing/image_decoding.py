"""Open images recognised by their content, with a pixel limit, and turn them into RGB pixels.

Decisions, and why:

* **Content, not names.** The caller sniffs the media type from magic bytes
  (`safeguard.domain.media.sniff_media_type`) and Pillow is only allowed the matching
  decoder (`formats=`), so a PNG renamed ``.jpg`` or a script with a ``.png`` name is
  treated as what it is.
* **First frame.** Multi-frame GIF, TIFF, WebP and HEIF files are hashed from frame 0,
  which is what Pillow presents after opening and what ThreatExchange's PDQ hasher hashes.
* **No EXIF orientation.** Hash lists are built from the stored pixels: Meta's C++ PDQ
  tools (CImg/ImageMagick) and ThreatExchange's Python hasher (``pdq_hasher.py``, which
  calls ``np.asarray(Image.open(...))``) both ignore the Orientation tag. Applying it here
  would rotate our hash away from theirs for every phone photo taken sideways. The
  dihedral option covers rotated copies instead.
* **Colour.** RGB and greyscale pixels are used as stored; RGBA and LA lose their alpha
  channel, as ThreatExchange's array conversion does. Palette, CMYK, 16-bit and other modes
  go through Pillow's ``convert("RGB")`` (ThreatExchange would hash palette indices or
  CMY channels as if they were RGB, which is meaningless).
* **Bombs.** The declared size is checked against the caller's pixel limit before any
  pixel is decoded. Pillow's own guard (twice ``Image.MAX_IMAGE_PIXELS``) still applies
  and is reported the same way.
* **Expansion.** `check_expansion` compares the declared size and bit depth with the
  encoded size: deflate (PNG, TIFF) cannot shrink data more than about 1032:1, so a file
  promising more pixels than that is a bomb, refused before any pixel is decoded.
* **HEIC/HEIF** come from pillow-heif, registered once on first use; **AVIF** is decoded
  by Pillow's own plugin (pillow-heif 1.x dropped AVIF).
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Mapping
from typing import BinaryIO

import numpy as np
import numpy.typing as npt
from PIL import Image, UnidentifiedImageError

from safeguard.domain.errors import CorruptMediaError, MediaTooLargeError, UnsupportedMediaError

RgbArray = npt.NDArray[np.uint8]
"""Height x width x 3, C-contiguous, uint8."""

PIL_FORMATS: Mapping[str, tuple[str, ...]] = {
    "image/jpeg": ("JPEG",),
    "image/png": ("PNG",),
    "image/gif": ("GIF",),
    "image/webp": ("WEBP",),
    "image/bmp": ("BMP",),
    "image/tiff": ("TIFF",),
    "image/heic": ("HEIF",),
    "image/heic-sequence": ("HEIF",),
    # "mif1" is the generic HEIF brand; AVIF encoders use it as the major brand too.
    "image/heif": ("HEIF", "AVIF"),
    "image/heif-sequence": ("HEIF", "AVIF"),
    "image/avif": ("AVIF", "HEIF"),
}
"""Which Pillow decoders may open each sniffed MIME type."""

_AS_STORED = frozenset({"RGB", "L", "RGBA", "LA"})
_heif_registered = False


def _register_heif() -> None:
    global _heif_registered
    if not _heif_registered:
        import pillow_heif

        pillow_heif.register_heif_opener()
        _heif_registered = True


def load_decoders() -> None:
    """Load every decoder plug-in now (Pillow's and HEIF) rather than on first use.

    A long-lived decoding process calls this once at start, so no upload pays for it.
    """
    Image.init()
    _register_heif()


def open_image(source: bytes | BinaryIO, mime: str, max_pixels: int) -> Image.Image:
    """Open an image lazily (header only) and check its declared size.

    Args:
        source: the encoded image, as bytes or a seekable binary file.
        mime: the sniffed MIME type; only the matching Pillow decoders are tried.
        max_pixels: refuse images declaring more pixels than this.

    Returns:
        The image positioned on its first frame; pixels are not decoded yet.

    Raises:
        UnsupportedMediaError: no decoder for this MIME type.
        MediaTooLargeError: the declared pixel count is over `max_pixels`.
        CorruptMediaError: the header cannot be parsed.
    """
    formats = PIL_FORMATS.get(mime)
    if formats is None:
        raise UnsupportedMediaError(f"no image decoder for {mime}")
    if "HEIF" in formats:
        _register_heif()
    stream = io.BytesIO(source) if isinstance(source, bytes) else source
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(stream, formats=list(formats))
    except Image.DecompressionBombError as exc:
        raise MediaTooLargeError(f"{mime} image too large to decode safely: {exc}") from exc
    except UnidentifiedImageError as exc:
        raise CorruptMediaError(f"not a readable {mime} image (header not recognised)") from exc
    except Exception as exc:  # Pillow raises many types for damaged headers.
        raise CorruptMediaError(f"damaged {mime} header: {_reason(exc)}") from exc
    width, height = image.size
    if width < 1 or height < 1:
        raise CorruptMediaError(f"{mime} image declares an empty size {width}x{height}")
    if width * height > max_pixels:
        raise MediaTooLargeError(
            f"{mime} image of {width}x{height} = {width * height:,} pixels is over the "
            f"limit of {max_pixels:,} pixels"
        )
    return image


EXPANSION_FLOOR_PIXELS = 4_000_000
"""Below this many declared pixels the expansion check is skipped: decoding is cheap there,
and flat pictures in modern codecs (HEIC, lossless WebP) legitimately compress further."""

_BITS_PER_PIXEL: Mapping[str, int] = {
    "1": 1,
    "L": 8,
    "P": 8,
    "PA": 16,
    "LA": 16,
    "La": 16,
    "I;16": 16,
    "I;16B": 16,
    "I;16L": 16,
    "RGB": 24,
    "YCbCr": 24,
    "LAB": 24,
    "HSV": 24,
    "RGBA": 32,
    "RGBa": 32,
    "RGBX": 32,
    "CMYK": 32,
    "I": 32,
    "F": 32,
}


def check_expansion(image: Image.Image, encoded_bytes: int, max_expansion: float) -> None:
    """Refuse an opened image whose declared pixels could not come from `encoded_bytes`.

    The raw size is the declared width x height x the bit depth of the declared mode; a
    ratio of raw to encoded size over `max_expansion` (0 turns the check off) is refused
    when the image declares more than `EXPANSION_FLOOR_PIXELS`.

    Raises:
        MediaTooLargeError: the ratio is over the limit.
    """
    width, height = image.size
    pixels = width * height
    if max_expansion <= 0 or pixels <= EXPANSION_FLOOR_PIXELS:
        return
    bits = _BITS_PER_PIXEL.get(image.mode, 24)
    raw_bytes = pixels * bits / 8
    ratio = raw_bytes / max(1, encoded_bytes)
    if ratio > max_expansion:
        raise MediaTooLargeError(
            f"image declares {width}x{height} {image.mode} pixels ({raw_bytes:,.0f} bytes raw) "
            f"from {encoded_bytes:,} encoded bytes, an expansion of {ratio:,.0f}:1 over the "
            f"limit of {max_expansion:,.0f}:1 (a decompression bomb)"
        )


def load_rgb(image: Image.Image) -> RgbArray:
    """Decode an opened image's current frame into RGB pixels (see module notes on colour).

    Raises:
        CorruptMediaError: the pixel data is truncated or damaged.
        MediaTooLargeError: Pillow's own bomb guard refused the image.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image.load()
            if image.mode not in _AS_STORED:
                image = image.convert("RGB")
            pixels: RgbArray = np.asarray(image)
    except Image.DecompressionBombError as exc:
        raise MediaTooLargeError(f"image too large to decode safely: {exc}") from exc
    except Exception as exc:  # Truncation is OSError; damaged data raises a variety.
        raise CorruptMediaError(f"cannot decode image data: {_reason(exc)}") from exc
    return as_rgb_pixels(pixels)


def as_rgb_pixels(pixels: npt.NDArray[np.uint8]) -> RgbArray:
    """Grey (H x W), RGB or RGBA (H x W x 3|4) uint8 pixels as a contiguous H x W x 3 array.

    Grey is replicated into three channels and alpha is dropped, exactly as ThreatExchange
    prepares arrays for ``pdqhash``.
    """
    if pixels.dtype != np.uint8:
        raise ValueError(f"expected uint8 pixels, got {pixels.dtype}")
    if pixels.ndim == 2:
        return np.ascontiguousarray(np.repeat(pixels[:, :, np.newaxis], 3, axis=2))
    if pixels.ndim == 3 and pixels.shape[2] == 2:  # grey + alpha
        return np.ascontiguousarray(np.repeat(pixels[:, :, :1], 3, axis=2))
    if pixels.ndim == 3 and pixels.shape[2] in (3, 4):
        return np.ascontiguousarray(pixels[:, :, :3])
    raise ValueError(f"expected grey, RGB or RGBA pixels, got shape {pixels.shape}")


def _reason(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
