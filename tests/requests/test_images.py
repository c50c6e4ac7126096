"""Image sizes from headers, and the providers' published token rules with their own examples."""

from __future__ import annotations

import base64

import pytest
from tests.chatdata import data_url, gif, jpeg, png, webp
from hypothesis import given
from hypothesis import strategies as st

from tokopt.requests import images

# --- sizes from headers -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (png(3, 2), ("png", 3, 2)),
        (gif(640, 480), ("gif", 640, 480)),
        (jpeg(1920, 1080), ("jpeg", 1920, 1080)),
        (jpeg(800, 600, exif_bytes=40_000), ("jpeg", 800, 600)),
        (webp(1000, 750, "VP8X"), ("webp", 1000, 750)),
        (webp(300, 200, "VP8L"), ("webp", 300, 200)),
        (webp(512, 384, "VP8"), ("webp", 512, 384)),
    ],
)
def test_sizes_from_headers(data, expected):
    size = images.image_size(data)
    assert size is not None
    assert (size.format, size.width, size.height) == expected


@given(st.integers(1, 16383), st.integers(1, 16383), st.sampled_from(["png", "gif", "jpeg", "VP8X", "VP8L", "VP8"]))
def test_any_size_round_trips_through_a_header(width, height, kind):
    if kind == "gif" and (width > 65535 or height > 65535):
        return
    data = {"gif": lambda: gif(width, height), "jpeg": lambda: jpeg(width, height)}.get(kind)
    if kind == "png":
        header = png(1, 1)
        data_bytes = header[:16] + width.to_bytes(4, "big") + height.to_bytes(4, "big") + header[24:]
    elif data is not None:
        data_bytes = data()
    else:
        data_bytes = webp(width, height, kind)
    size = images.image_size(data_bytes)
    assert size is not None and (size.width, size.height) == (width, height)


def test_data_urls_decode_only_what_they_need():
    inline = images.from_data_url(data_url(png(1024, 768), "image/png"))
    assert inline is not None and inline.size is not None
    assert (inline.size.width, inline.size.height, inline.media_type) == (1024, 768, "image/png")
    assert inline.size_bytes == len(png(1024, 768))
    # a JPEG whose frame header comes after 40 KB of metadata
    inline = images.from_data_url(data_url(jpeg(4000, 3000, exif_bytes=40_000), "image/jpeg"))
    assert inline is not None and inline.size is not None and inline.size.width == 4000


def test_unknown_or_broken_images_say_why():
    assert images.from_data_url("https://example.com/cat.png") is None
    svg = images.from_data_url("data:image/svg+xml;base64," + base64.b64encode(b"<svg/>").decode())
    assert svg is not None and svg.size is None and "not PNG, JPEG, GIF or WebP" in (svg.note or "")
    broken = images.from_data_url("data:image/png;base64,%%%not-base64%%%")
    assert broken is not None and broken.size is None and broken.note
    plain = images.from_data_url("data:image/png,rawbytes")
    assert plain is not None and plain.note == "data URL is not base64"
    truncated = images.from_base64(base64.b64encode(png(10, 10)[:20]).decode(), "image/png")
    assert truncated.size is None and "header not readable" in (truncated.note or "")


# --- OpenAI's rules, with the examples of its vision guide -------------------------------------


def test_openai_tile_rule_examples():
    gpt4o = images.rule_for("openai", "gpt-4o")
    assert gpt4o.tokens(1024, 1024, "high") == 765  # 4 tiles after scaling to 768x768
    assert gpt4o.tokens(2048, 4096, "high") == 1105  # 1024x2048, then 768x1536: 6 tiles
    assert gpt4o.tokens(4096, 8192, "low") == 85
    assert gpt4o.tokens(1024, 1024, None) == 765  # auto is high
    assert gpt4o.tokens(500, 500, "auto") == 255
    assert gpt4o.tokens(513, 500, "high") == 425
    assert images.rule_for("openai", "gpt-4o-mini").tokens(1024, 1024, "high") == 2833 + 4 * 5667
    assert images.rule_for("openai", "gpt-5").tokens(1024, 1024, "high") == 70 + 4 * 140
    assert images.rule_for("openai", "o3").tokens(1024, 1024, "low") == 75


def test_openai_patch_rule_examples():
    mini = images.rule_for("openai", "gpt-4.1-mini")
    assert mini.tokens(1024, 1024, "high") == 1659  # 1024 patches x 1.62, rounded up
    # 1800x2400: 4275 patches > 1536, scaled to 1056x1408 = 33 x 44 = 1452 patches
    assert images._patch_budget(1800, 2400, 1536) == 1452
    assert mini.tokens(1800, 2400, "high") == 2353
    assert images.rule_for("openai", "gpt-4.1-nano").tokens(1024, 1024, "low") == 2520
    new = images.rule_for("openai", "gpt-5.5")
    assert new.tokens(1024, 1024, "high") == 1229  # 1024 patches x 1.2
    assert new.tokens(4000, 4000, "low") == 308  # fits 512x512: 256 patches x 1.2


def test_openai_rule_by_model_family():
    def name(model):
        rule = images.rule_for("openai", model)
        return None if rule is None else rule.name

    assert name("gpt-5.4") == name("gpt-5.4-mini") != name("gpt-5")
    assert name("gpt-5-mini") != name("gpt-5")
    assert "70 + 140" in name("gpt-5.1-codex")
    assert "85 + 170" in name("gpt-4.1")
    assert "× 1.62" in name("gpt-4.1-mini")
    assert name("o1-pro") == name("o3")
    assert name("gpt-4") is None and name("gpt-3.5-turbo") is None  # no vision


# --- Anthropic's rule ---------------------------------------------------------------------------


def test_anthropic_patch_rule_and_resize_tiers():
    standard = images.rule_for("anthropic", "claude-sonnet-4-5")
    high = images.rule_for("anthropic", "claude-opus-4-8")
    assert standard is images.CLAUDE_STANDARD and high is images.CLAUDE_HIGH_RES
    assert standard.tokens(1568, 728, None) == 56 * 26  # fits: no resize
    assert standard.tokens(1928, 1928, None) == 1521  # resized to 39 x 39 patches
    assert high.tokens(1928, 1928, None) == 4761  # fits the high-resolution tier
    assert standard.tokens(200, 200, None) == 64  # 8 x 8 patches (padded to 224)
    assert images.rule_for("google", "gemini-3.5-flash") is None


@given(st.integers(1, 8000), st.integers(1, 8000))
def test_anthropic_resize_always_fits_and_keeps_small_images(width, height):
    for rule in (images.CLAUDE_STANDARD, images.CLAUDE_HIGH_RES):
        w, h = rule.resized(width, height)
        assert rule._fits(w, h)
        assert w <= width and h <= height
        if rule._fits(width, height):
            assert (w, h) == (width, height)
        assert rule.tokens(width, height, None) <= rule.max_tokens
