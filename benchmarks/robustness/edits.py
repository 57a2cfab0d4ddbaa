"""The catalogue of real-world edits the robustness benchmark applies to benign pictures.

Every edit takes an RGB picture and a seeded `random.Random` and returns encoded bytes, as a
copy found on a device or uploaded to a platform would be. Edits are deterministic for a seed.
"""

from __future__ import annotations

import io
import random
from collections.abc import Callable

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageFont, ImageOps

Edit = Callable[[Image.Image, random.Random], bytes]


def jpeg(image: Image.Image, quality: int = 90) -> bytes:
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


def png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def decode(data: bytes) -> Image.Image:
    with Image.open(io.BytesIO(data)) as image:
        return image.convert("RGB")


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    return ImageFont.load_default(size=size)


def _random_colour(rng: random.Random, lo: int = 0, hi: int = 255) -> tuple[int, int, int]:
    return (rng.randint(lo, hi), rng.randint(lo, hi), rng.randint(lo, hi))


def _words(rng: random.Random, count: int) -> str:
    vocabulary = [
        "holiday", "photo", "shared", "with", "you", "today", "nice", "view", "look",
        "album", "summer", "new", "post", "from", "the", "weekend", "reply", "like",
    ]  # fmt: skip
    return " ".join(rng.choice(vocabulary) for _ in range(count))


# --- re-encoding and format changes -------------------------------------------------------


def reencode(quality: int) -> Edit:
    return lambda image, rng: jpeg(image, quality)


def to_webp(image: Image.Image, rng: random.Random) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="WEBP", quality=60)
    return buffer.getvalue()


def to_gif(image: Image.Image, rng: random.Random) -> bytes:
    buffer = io.BytesIO()
    image.quantize(colors=256, dither=Image.Dither.FLOYDSTEINBERG).save(buffer, format="GIF")
    return buffer.getvalue()


# --- size and shape ------------------------------------------------------------------------


def resize(factor: float, back_up: bool = False) -> Edit:
    def edit(image: Image.Image, rng: random.Random) -> bytes:
        w, h = image.size
        small = image.resize(
            (max(8, round(w * factor)), max(8, round(h * factor))), Image.Resampling.BILINEAR
        )
        if back_up:
            small = small.resize((w, h), Image.Resampling.BICUBIC)
        return jpeg(small, 88)

    return edit


def stretch(image: Image.Image, rng: random.Random) -> bytes:
    w, h = image.size
    if rng.random() < 0.5:
        return jpeg(image.resize((round(w * 1.3), h), Image.Resampling.BICUBIC))
    return jpeg(image.resize((w, round(h * 1.3)), Image.Resampling.BICUBIC))


def crop_centre(keep: float) -> Edit:
    """Cut the same share off every side, keeping `keep` of width and height."""

    def edit(image: Image.Image, rng: random.Random) -> bytes:
        w, h = image.size
        dx, dy = round(w * (1 - keep) / 2), round(h * (1 - keep) / 2)
        return jpeg(image.crop((dx, dy, w - dx, h - dy)))

    return edit


def crop_offset(keep: float) -> Edit:
    """Keep `keep` of width and height at a random position (often touching a corner)."""

    def edit(image: Image.Image, rng: random.Random) -> bytes:
        w, h = image.size
        cw, ch = round(w * keep), round(h * keep)
        x0, y0 = rng.randint(0, w - cw), rng.randint(0, h - ch)
        return jpeg(image.crop((x0, y0, x0 + cw, y0 + ch)))

    return edit


def crop_one_side(share: float) -> Edit:
    def edit(image: Image.Image, rng: random.Random) -> bytes:
        w, h = image.size
        side = rng.choice("tblr")
        box = {
            "t": (0, round(h * share), w, h),
            "b": (0, 0, w, h - round(h * share)),
            "l": (round(w * share), 0, w, h),
            "r": (0, 0, w - round(w * share), h),
        }[side]
        return jpeg(image.crop(box))

    return edit


# --- borders, letterboxing, screenshots --------------------------------------------------


def border(share: float, colour: str) -> Edit:
    """A frame of about `share` of the picture's size, of one colour, uneven on each side."""

    def edit(image: Image.Image, rng: random.Random) -> bytes:
        w, h = image.size
        fill = {"white": (255, 255, 255), "black": (0, 0, 0)}.get(colour) or _random_colour(rng)
        sides = [max(2, round(s * share * rng.uniform(0.5, 1.5))) for s in (w, h, w, h)]
        return jpeg(ImageOps.expand(image, border=tuple(sides), fill=fill))

    return edit


def noisy_border(image: Image.Image, rng: random.Random) -> bytes:
    """A near-uniform frame: a flat colour with sensor-like noise, then JPEG."""
    w, h = image.size
    pad = round(max(w, h) * 0.12)
    base = np.array(_random_colour(rng, 20, 235), dtype=np.float32)
    nrng = np.random.default_rng(rng.randrange(2**32))
    canvas = base + nrng.normal(0, 3.0, size=(h + 2 * pad, w + 2 * pad, 3))
    frame = Image.fromarray(np.clip(canvas, 0, 255).astype(np.uint8))
    frame.paste(image, (pad, pad))
    return jpeg(frame, 85)


def letterbox(image: Image.Image, rng: random.Random) -> bytes:
    """Fit into a 16:9 (or 9:16 for tall pictures) black frame, as video stills are."""
    w, h = image.size
    target = 16 / 9 if w >= h else 9 / 16
    canvas_size = (round(h * target), h) if w / h < target else (w, round(w / target))
    if abs(canvas_size[0] - w) + abs(canvas_size[1] - h) < 0.1 * (w + h):
        canvas_size = (canvas_size[0] + w // 4, canvas_size[1]) if w < h else (w, h + h // 3)
    canvas = Image.new("RGB", canvas_size, (0, 0, 0))
    canvas.paste(image, ((canvas_size[0] - w) // 2, (canvas_size[1] - h) // 2))
    return jpeg(canvas, 85)


def _text_lines(draw: ImageDraw.ImageDraw, box: tuple[int, int, int, int], rng: random.Random,
                colour: tuple[int, int, int], size: int) -> None:  # fmt: skip
    x0, y0, x1, y1 = box
    y = y0
    font = _font(size)
    while y + size < y1:
        line = _words(rng, rng.randint(2, 7))
        while draw.textlength(line, font=font) > x1 - x0 and " " in line:
            line = line.rsplit(" ", 1)[0]  # Interfaces cut text to the space it has.
        draw.text((x0, y), line, fill=colour, font=font)
        y += round(size * 1.6)


def screenshot_phone(image: Image.Image, rng: random.Random) -> bytes:
    """The picture inside a phone app screen: status bar, app bar, caption, buttons."""
    width = 720
    dark = rng.random() < 0.4
    background = (18, 18, 18) if dark else (250, 250, 250)
    ink = (230, 230, 230) if dark else (30, 30, 30)
    margin = rng.choice([0, 0, 16, 24])
    pic_w = width - 2 * margin
    pic_h = round(image.height * pic_w / image.width)
    canvas = Image.new("RGB", (width, max(1280, pic_h + 420)), background)
    draw = ImageDraw.Draw(canvas)
    bar = _random_colour(rng, 30, 220)
    draw.rectangle((0, 0, width, 44), fill=(0, 0, 0) if dark else bar)
    draw.text((20, 10), "12:4" + str(rng.randint(0, 9)), fill=(255, 255, 255), font=_font(22))
    draw.rectangle((0, 44, width, 140), fill=bar)
    draw.text((24, 72), _words(rng, 3), fill=(255, 255, 255), font=_font(34))
    top = 140 + rng.choice([0, 12, 24])
    canvas.paste(image.resize((pic_w, pic_h), Image.Resampling.BICUBIC), (margin, top))
    _text_lines(draw, (24, top + pic_h + 20, width - 24, top + pic_h + 160), rng, ink, 26)
    for i in range(4):
        x = 24 + i * 170
        draw.rounded_rectangle((x, top + pic_h + 180, x + 150, top + pic_h + 240), 12, fill=bar)
    return png(canvas) if rng.random() < 0.5 else jpeg(canvas, 85)


def screenshot_desktop(image: Image.Image, rng: random.Random) -> bytes:
    """The picture in a desktop window with a title bar, a sidebar of text and a toolbar."""
    canvas = Image.new("RGB", (1280, 800), (236, 236, 240))
    draw = ImageDraw.Draw(canvas)
    draw.rectangle((0, 0, 1280, 36), fill=(60, 60, 70))
    draw.text((16, 8), _words(rng, 4), fill=(240, 240, 240), font=_font(18))
    draw.rectangle((0, 36, 260, 800), fill=(220, 222, 228))
    _text_lines(draw, (16, 56, 250, 780), rng, (40, 40, 40), 18)
    draw.rectangle((260, 36, 1280, 84), fill=(246, 246, 248))
    _text_lines(draw, (280, 50, 900, 80), rng, (40, 40, 40), 18)
    scale = min(900 / image.width, 660 / image.height) * rng.uniform(0.75, 1.0)
    pic = image.resize(
        (round(image.width * scale), round(image.height * scale)), Image.Resampling.BICUBIC
    )
    x = 280 + rng.randint(0, 980 - pic.width)
    y = 100 + rng.randint(0, 690 - pic.height)
    canvas.paste(pic, (x, y))
    return png(canvas) if rng.random() < 0.5 else jpeg(canvas, 85)


def screenshot_chat(image: Image.Image, rng: random.Random) -> bytes:
    """The picture in a chat bubble among text bubbles, phone sized."""
    width = 720
    canvas = Image.new("RGB", (width, 1400), _random_colour(rng, 200, 245))
    draw = ImageDraw.Draw(canvas)
    draw.rectangle((0, 0, width, 120), fill=(40, 90, 140))
    draw.text((110, 40), _words(rng, 2), fill=(255, 255, 255), font=_font(30))
    y = 140
    for _ in range(rng.randint(1, 3)):
        draw.rounded_rectangle((20, y, 480, y + 80), 18, fill=(255, 255, 255))
        draw.text((40, y + 25), _words(rng, 4), fill=(20, 20, 20), font=_font(24))
        y += 100
    pic_w = rng.randint(440, 560)
    pic_h = round(image.height * pic_w / image.width)
    x = width - pic_w - 24
    draw.rounded_rectangle((x - 8, y - 8, x + pic_w + 8, y + pic_h + 40), 18, fill=(220, 248, 200))
    canvas.paste(image.resize((pic_w, pic_h), Image.Resampling.BICUBIC), (x, y))
    draw.text((x + pic_w - 90, y + pic_h + 10), "12:3" + str(rng.randint(0, 9)), fill=(90, 90, 90), font=_font(18))  # fmt: skip
    y += pic_h + 70
    draw.rounded_rectangle((20, y, 400, y + 80), 18, fill=(255, 255, 255))
    draw.text((40, y + 25), _words(rng, 3), fill=(20, 20, 20), font=_font(24))
    canvas = canvas.crop((0, 0, width, max(1280, y + 200)))
    return jpeg(canvas, 85)


# --- dihedral and small rotations ---------------------------------------------------------


def transpose(method: Image.Transpose) -> Edit:
    return lambda image, rng: jpeg(image.transpose(method))


def rotate_cropped(degrees: float) -> Edit:
    """Rotate by about `degrees` either way and cut to the largest upright inner rectangle."""

    def edit(image: Image.Image, rng: random.Random) -> bytes:
        angle = degrees * rng.choice([-1, 1]) * rng.uniform(0.8, 1.2)
        w, h = image.size
        rotated = image.rotate(angle, resample=Image.Resampling.BICUBIC)
        rad = np.deg2rad(abs(angle))
        # Inner rectangle with the picture's aspect that stays inside the rotated frame.
        scale = 1 / (np.cos(rad) + max(w / h, h / w) * np.sin(rad))
        cw, ch = round(w * scale), round(h * scale)
        return jpeg(rotated.crop(((w - cw) // 2, (h - ch) // 2, (w + cw) // 2, (h + ch) // 2)))

    return edit


def rotate_filled(degrees: float) -> Edit:
    """Rotate by about `degrees` with the whole picture kept, corners filled with one colour."""

    def edit(image: Image.Image, rng: random.Random) -> bytes:
        angle = degrees * rng.choice([-1, 1]) * rng.uniform(0.8, 1.2)
        fill = rng.choice([(0, 0, 0), (255, 255, 255)])
        return jpeg(image.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=fill))  # fmt: skip

    return edit


# --- colour, blur, noise ------------------------------------------------------------------


def greyscale(image: Image.Image, rng: random.Random) -> bytes:
    return jpeg(ImageOps.grayscale(image))


def brightness_contrast(image: Image.Image, rng: random.Random) -> bytes:
    brighter = ImageEnhance.Brightness(image).enhance(rng.choice([0.7, 1.3]))
    return jpeg(ImageEnhance.Contrast(brighter).enhance(rng.choice([0.7, 1.4])))


def gamma(image: Image.Image, rng: random.Random) -> bytes:
    g = rng.choice([0.6, 1.6])
    table = [round(255 * (i / 255) ** g) for i in range(256)] * 3
    return jpeg(image.point(table))


def blur(image: Image.Image, rng: random.Random) -> bytes:
    return jpeg(image.filter(ImageFilter.GaussianBlur(radius=max(image.size) / 250)))


def noise(image: Image.Image, rng: random.Random) -> bytes:
    nrng = np.random.default_rng(rng.randrange(2**32))
    pixels = np.asarray(image, dtype=np.float32) + nrng.normal(
        0, 12, size=(image.height, image.width, 3)
    )
    return jpeg(Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)))


# --- overlays -----------------------------------------------------------------------------


def text_overlay(image: Image.Image, rng: random.Random) -> bytes:
    """Two lines of meme-style caption text across the picture."""
    out = image.copy()
    draw = ImageDraw.Draw(out)
    size = max(14, image.height // 12)
    font = _font(size)
    for y in (image.height // 20, image.height - image.height // 20 - size):
        draw.text((image.width // 12, y), _words(rng, 3).upper(), fill=(255, 255, 255), font=font,
                  stroke_width=2, stroke_fill=(0, 0, 0))  # fmt: skip
    return jpeg(out)


def banner(image: Image.Image, rng: random.Random) -> bytes:
    """An opaque strip with a site name over about an eighth of the picture, top or bottom."""
    out = image.copy()
    draw = ImageDraw.Draw(out)
    strip = image.height // 8
    y0 = 0 if rng.random() < 0.5 else image.height - strip
    draw.rectangle((0, y0, image.width, y0 + strip), fill=_random_colour(rng, 0, 80))
    draw.text((10, y0 + strip // 4), "example-site.invalid", fill=(255, 255, 255), font=_font(strip // 2))  # fmt: skip
    return jpeg(out)


def watermark(image: Image.Image, rng: random.Random) -> bytes:
    """A half-transparent logo and site name in one corner."""
    out = image.convert("RGBA")
    layer = Image.new("RGBA", out.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    size = max(12, image.width // 14)
    x = rng.choice([image.width // 30, image.width - image.width // 30 - size * 7])
    y = rng.choice([image.height // 30, image.height - image.height // 30 - size * 2])
    draw.ellipse((x, y, x + size * 2, y + size * 2), fill=(255, 255, 255, 120))
    draw.text((x + size * 2 + 6, y + size // 2), "mark", fill=(255, 255, 255, 140), font=_font(size))  # fmt: skip
    return jpeg(Image.alpha_composite(out, layer).convert("RGB"))


SINGLE_EDITS: dict[str, Edit] = {
    "jpeg-q70": reencode(70),
    "jpeg-q40": reencode(40),
    "jpeg-q15": reencode(15),
    "webp-q60": to_webp,
    "gif-256-colours": to_gif,
    "resize-0.5": resize(0.5),
    "resize-0.25-and-up": resize(0.25, back_up=True),
    "resize-1.6": resize(1.6),
    "stretch-1.3": stretch,
    "crop-5pct-each-side": crop_centre(0.90),
    "crop-offset-keep-85": crop_offset(0.85),
    "crop-offset-keep-70": crop_offset(0.70),
    "crop-one-side-15pct": crop_one_side(0.15),
    "border-white": border(0.08, "white"),
    "border-colour-20pct": border(0.20, "colour"),
    "border-noisy": noisy_border,
    "letterbox": letterbox,
    "screenshot-phone": screenshot_phone,
    "screenshot-desktop": screenshot_desktop,
    "screenshot-chat": screenshot_chat,
    "mirror": transpose(Image.Transpose.FLIP_LEFT_RIGHT),
    "flip": transpose(Image.Transpose.FLIP_TOP_BOTTOM),
    "rotate-90": transpose(Image.Transpose.ROTATE_90),
    "rotate-180": transpose(Image.Transpose.ROTATE_180),
    "rotate-3-cropped": rotate_cropped(3),
    "rotate-8-filled": rotate_filled(8),
    "greyscale": greyscale,
    "brightness-contrast": brightness_contrast,
    "gamma": gamma,
    "blur": blur,
    "noise": noise,
    "text-overlay": text_overlay,
    "banner": banner,
    "watermark": watermark,
}


def combine(first: str, second: str) -> Edit:
    """Apply `first`, decode, then apply `second`."""

    def edit(image: Image.Image, rng: random.Random) -> bytes:
        return SINGLE_EDITS[second](decode(SINGLE_EDITS[first](image, rng)), rng)

    return edit


COMBINED_EDITS: dict[str, Edit] = {
    f"{a}+{b}": combine(a, b)
    for a, b in (
        ("resize-0.5", "jpeg-q40"),
        ("crop-5pct-each-side", "jpeg-q40"),
        ("mirror", "border-white"),
        ("rotate-90", "letterbox"),
        ("border-colour-20pct", "text-overlay"),
        ("greyscale", "screenshot-phone"),
        ("mirror", "screenshot-chat"),
        ("brightness-contrast", "screenshot-desktop"),
        ("rotate-3-cropped", "resize-0.5"),
        ("crop-offset-keep-85", "mirror"),
        ("watermark", "letterbox"),
        ("banner", "blur"),
    )
}
