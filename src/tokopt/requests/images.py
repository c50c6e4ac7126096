"""Images in requests: their size from the file header, and what each provider bills for them.

Sizes come from the first bytes of PNG, JPEG, GIF and WebP data with the standard library only
(no pixels are decoded). Token rules are the providers' published ones:

- OpenAI, tile rule (GPT-4o, GPT-4.1, GPT-4.5, o1, o3, GPT-5, GPT-5.1): `detail: low` costs the
  base tokens; `high` and `auto` scale the image to fit 2048x2048, then its shortest side down
  to 768, and add the tile tokens for every 512-px tile that covers it.
- OpenAI, patch rule (GPT-4.1 mini/nano, o4-mini, GPT-5 mini/nano, GPT-5.2 and later): the
  32-px patches that cover the image, scaled down to a patch budget when there are more, times
  a per-model multiplier.
- Anthropic: one token per 28-px patch, `ceil(w/28) * ceil(h/28)`, after the image is scaled
  down (aspect kept) to the model's limits: 1568 px and 1568 tokens, or 2576 px and 4784 tokens
  for Claude Opus 4.7 and later, Sonnet 5 and Fable 5. (This replaced the older `w*h/750`,
  which approximates the same grid.)

Sources: developers.openai.com/api/docs/guides/images-vision and
platform.claude.com/docs/en/build-with-claude/vision (as of 2026-07). Other providers publish
no rule tokopt applies; their images are reported as not counted.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
import struct
from dataclasses import dataclass
from typing import Protocol

# Enough of a file for the header of PNG, GIF and WebP; JPEG's size sits in a frame header
# after its metadata segments, which can be long (EXIF thumbnails), so JPEG may need more.
HEADER_BYTES = 64
JPEG_SCAN_LIMIT = 1 << 20


@dataclass(frozen=True, slots=True)
class ImageSize:
    format: str  # "png", "jpeg", "gif", "webp"
    width: int
    height: int


def sniff_format(data: bytes) -> str | None:
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8"):
        return "jpeg"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


def image_size(data: bytes) -> ImageSize | None:
    """Width and height from the header of PNG, JPEG, GIF or WebP bytes; None if unknown."""
    kind = sniff_format(data)
    if kind == "png":
        # The IHDR chunk comes first: length, b"IHDR", width, height (big-endian).
        if len(data) >= 24 and data[12:16] == b"IHDR":
            w, h = struct.unpack(">II", data[16:24])
            return ImageSize("png", w, h) if w and h else None
        return None
    if kind == "gif":
        if len(data) >= 10:
            w, h = struct.unpack("<HH", data[6:10])
            return ImageSize("gif", w, h) if w and h else None
        return None
    if kind == "webp":
        return _webp_size(data)
    if kind == "jpeg":
        return _jpeg_size(data)
    return None


def _webp_size(data: bytes) -> ImageSize | None:
    chunk = data[12:16]
    if chunk == b"VP8 " and len(data) >= 30 and data[23:26] == b"\x9d\x01\x2a":
        w, h = struct.unpack("<HH", data[26:30])
        return ImageSize("webp", w & 0x3FFF, h & 0x3FFF)
    if chunk == b"VP8L" and len(data) >= 25 and data[20] == 0x2F:
        bits = int.from_bytes(data[21:25], "little")
        return ImageSize("webp", (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1)
    if chunk == b"VP8X" and len(data) >= 30:
        w = int.from_bytes(data[24:27], "little") + 1
        h = int.from_bytes(data[27:30], "little") + 1
        return ImageSize("webp", w, h)
    return None


# Start-of-frame markers carry the size; C4 (DHT), C8 (JPG) and CC (DAC) share the range but are not frames.
_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


def _jpeg_size(data: bytes) -> ImageSize | None:
    i = 2
    n = len(data)
    while i + 4 <= n:
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:  # no length field
            i += 2
            continue
        (length,) = struct.unpack(">H", data[i + 2 : i + 4])
        if marker in _SOF:
            if i + 9 > n:
                return None
            h, w = struct.unpack(">HH", data[i + 5 : i + 9])
            return ImageSize("jpeg", w, h) if w and h else None
        if marker == 0xDA:  # start of scan: no frame header before the image data
            return None
        i += 2 + length
    return None


_DATA_URL = re.compile(r"data:(?P<type>[^;,]*)(?P<params>(?:;[^;,]*)*?)(?P<b64>;base64)?,", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class InlineImage:
    media_type: str | None
    size: ImageSize | None
    size_bytes: int | None
    note: str | None  # why the size is unknown


def from_base64(payload: str, media_type: str | None) -> InlineImage:
    """Size of a base64-encoded image, decoding only as much as its header needs."""
    payload = payload.strip()
    if any(c.isspace() for c in payload[:4096]):
        payload = "".join(payload.split())
    size_bytes = len(payload) * 3 // 4 - payload[-2:].count("=")
    head = _b64_prefix(payload, HEADER_BYTES)
    if head is None:
        return InlineImage(media_type, None, None, "not valid base64")
    kind = sniff_format(head)
    if kind is None:
        return InlineImage(media_type, None, size_bytes, f"{media_type or 'data'} is not PNG, JPEG, GIF or WebP")
    if kind == "jpeg":
        head = _b64_prefix(payload, min(size_bytes, JPEG_SCAN_LIMIT)) or head
    size = image_size(head)
    if size is None:
        return InlineImage(media_type, None, size_bytes, f"{kind} header not readable")
    return InlineImage(media_type or f"image/{kind}", size, size_bytes, None)


def _b64_prefix(payload: str, nbytes: int) -> bytes | None:
    chars = -(-nbytes // 3) * 4
    chunk = payload[:chars]
    if len(chunk) % 4:
        chunk = chunk[: len(chunk) - len(chunk) % 4]
    try:
        return base64.b64decode(chunk, validate=True) if chunk else b""
    except (binascii.Error, ValueError):
        try:
            return base64.urlsafe_b64decode(chunk)
        except (binascii.Error, ValueError):
            return None


def from_data_url(url: str) -> InlineImage | None:
    """Size of the image in a `data:` URL; None if `url` is not a data URL."""
    match = _DATA_URL.match(url)
    if match is None:
        return None
    media_type = match.group("type") or None
    payload = url[match.end() :]
    if not match.group("b64"):
        return InlineImage(media_type, None, None, "data URL is not base64")
    return from_base64(payload, media_type)


# --- what providers bill ----------------------------------------------------------------------


class ImageRule(Protocol):
    name: str

    def tokens(self, width: int, height: int, detail: str | None) -> int: ...


def _fit(width: float, height: float, limit: float) -> tuple[float, float]:
    scale = min(1.0, limit / max(width, height))
    return width * scale, height * scale


@dataclass(frozen=True)
class OpenAITiles:
    """Base tokens plus tile tokens per 512-px tile, after fitting 2048 and shortest side 768."""

    base: int
    tile: int

    @property
    def name(self) -> str:
        return f"OpenAI tiles ({self.base} + {self.tile} per 512-px tile)"

    def tokens(self, width: int, height: int, detail: str | None) -> int:
        if detail == "low":
            return self.base
        w, h = _fit(width, height, 2048)
        short = min(w, h)
        if short > 768:
            w, h = w * 768 / short, h * 768 / short
        tiles = math.ceil(int(w) / 512) * math.ceil(int(h) / 512)
        return self.base + self.tile * max(tiles, 1)


def _patches(width: float, height: float) -> int:
    return math.ceil(width / 32) * math.ceil(height / 32)


def _patch_budget(width: float, height: float, budget: int) -> int:
    """32-px patches after OpenAI's documented downscale to at most `budget` patches: scale by
    sqrt(32*32*budget / (w*h)), then shrink further so whole patches fit each side."""
    if _patches(width, height) <= budget:
        return _patches(width, height)
    shrink = math.sqrt(32 * 32 * budget / (width * height))
    w, h = width * shrink, height * shrink
    fit = min(max(math.floor(w / 32), 1) / (w / 32), max(math.floor(h / 32), 1) / (h / 32))
    w, h = max(1, int(w * fit)), max(1, int(h * fit))
    return min(budget, _patches(w, h))


@dataclass(frozen=True)
class OpenAIPatches:
    """32-px patches times a multiplier. `budget` caps the patches at detail high (and auto
    unless `auto_original`); `low_edge` fits detail low in a square of that side;
    `original` is (edge, budget) for detail original (and auto when `auto_original`)."""

    multiplier: float
    budget: int
    max_edge: int = 2048
    low_edge: int | None = None
    original: tuple[int, int] | None = None
    auto_original: bool = False

    @property
    def name(self) -> str:
        return f"OpenAI 32-px patches × {self.multiplier:g} (budget {self.budget:,})"

    def tokens(self, width: int, height: int, detail: str | None) -> int:
        if detail == "low" and self.low_edge is not None:
            w, h = _fit(width, height, self.low_edge)
            patches = _patches(max(1, int(w)), max(1, int(h)))
        elif self.original is not None and (detail == "original" or (detail in (None, "auto") and self.auto_original)):
            edge, budget = self.original
            w, h = _fit(width, height, edge)
            patches = _patch_budget(w, h, budget)
        else:
            w, h = _fit(width, height, self.max_edge)
            patches = _patch_budget(w, h, self.budget)
        return math.ceil(patches * self.multiplier)


@dataclass(frozen=True)
class ClaudePatches:
    """One token per 28-px patch after Anthropic's resize to `max_edge` and `max_tokens`."""

    max_edge: int
    max_tokens: int

    @property
    def name(self) -> str:
        return f"Anthropic 28-px patches (≤ {self.max_edge} px, ≤ {self.max_tokens:,} tokens)"

    def _fits(self, w: int, h: int) -> bool:
        return (
            math.ceil(w / 28) * 28 <= self.max_edge
            and math.ceil(h / 28) * 28 <= self.max_edge
            and math.ceil(w / 28) * math.ceil(h / 28) <= self.max_tokens
        )

    def resized(self, width: int, height: int) -> tuple[int, int]:
        """The largest size with the same aspect ratio that fits (the image itself if it does):
        a binary search over the long edge, the short edge rounded, as Anthropic's reference does."""
        if self._fits(width, height):
            return width, height
        if height > width:
            h, w = self.resized(height, width)
            return w, h
        aspect = height / width
        lo, hi, best = 1, width, 1
        while lo <= hi:
            mid = (lo + hi) // 2
            if self._fits(mid, max(1, round(mid * aspect))):
                best, lo = mid, mid + 1
            else:
                hi = mid - 1
        return best, max(1, round(best * aspect))

    def tokens(self, width: int, height: int, detail: str | None) -> int:
        w, h = self.resized(width, height)
        return math.ceil(w / 28) * math.ceil(h / 28)


_TILE_4O = OpenAITiles(85, 170)
_PATCH_NEW = OpenAIPatches(1.2, 2500, low_edge=512, original=(6000, 10_000))
_PATCH_NEW_AUTO_ORIGINAL = OpenAIPatches(1.2, 2500, low_edge=512, original=(6000, 10_000), auto_original=True)
CLAUDE_STANDARD = ClaudePatches(1568, 1568)
CLAUDE_HIGH_RES = ClaudePatches(2576, 4784)

# (model id prefix, rule), most specific first; a prefix matches the id or the id followed by
# "-" or "." (so "gpt-5" does not match "gpt-5.4", which has its own entry).
OPENAI_RULES: tuple[tuple[str, ImageRule], ...] = (
    ("gpt-4o-mini", OpenAITiles(2833, 5667)),
    ("gpt-4.1-mini", OpenAIPatches(1.62, 1536)),
    ("gpt-4.1-nano", OpenAIPatches(2.46, 1536)),
    ("o4-mini", OpenAIPatches(1.72, 1536)),
    ("codex-mini", OpenAIPatches(1.72, 1536)),
    ("gpt-5-mini", OpenAIPatches(1.62, 1536)),
    ("gpt-5-nano", OpenAIPatches(2.46, 1536)),
    ("gpt-5.2", _PATCH_NEW),
    ("gpt-5.3", _PATCH_NEW),
    ("gpt-5.4", _PATCH_NEW),
    ("gpt-5.5", _PATCH_NEW_AUTO_ORIGINAL),
    ("gpt-5.6", _PATCH_NEW_AUTO_ORIGINAL),
    ("gpt-5.1", OpenAITiles(70, 140)),
    ("gpt-5", OpenAITiles(70, 140)),
    ("gpt-4o", _TILE_4O),
    ("gpt-4.1", _TILE_4O),
    ("gpt-4.5", _TILE_4O),
    ("gpt-4-turbo", _TILE_4O),
    ("o1", OpenAITiles(75, 150)),
    ("o3", OpenAITiles(75, 150)),
)

# Anthropic's high-resolution tier; every other Claude model is on the standard one.
CLAUDE_HIGH_RES_PREFIXES = ("claude-opus-4-7", "claude-opus-4-8", "claude-sonnet-5", "claude-fable-5", "claude-mythos-5")


def _matches(model_id: str, prefix: str) -> bool:
    return model_id == prefix or model_id.startswith((prefix + "-", prefix + "."))


def rule_for(provider: str, model_id: str) -> ImageRule | None:
    """The image rule a model is billed by, or None where tokopt knows of no published rule."""
    key = model_id.lower()
    if provider == "openai":
        for prefix, rule in OPENAI_RULES:
            if _matches(key, prefix):
                return rule
        return None
    if provider == "anthropic":
        if any(_matches(key, p) for p in CLAUDE_HIGH_RES_PREFIXES):
            return CLAUDE_HIGH_RES
        return CLAUDE_STANDARD
    return None
