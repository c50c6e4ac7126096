"""`suggest --write`: the exact rewrites applied to a copy, counted before and after; the input is never written."""

from __future__ import annotations

from pathlib import Path

import pytest

from tokopt import inputs, optimize
from tokopt.errors import InputError


def test_write_rewritten(tmp_path: Path, catalog, reference) -> None:
    para = "A paragraph that is long enough to be a duplicate when it appears again later."
    text = f"Intro   \r\n\r\n\r\n\r\n{para}\r\n\r\n{para}\r\n\r\n```json\r\n{{\r\n  \"a\": 1\r\n}}\r\n```\r\n        indented stays\r\n"
    src = tmp_path / "p.txt"
    src.write_bytes(text.encode("utf-8"))
    sources = inputs.expand([str(src)]).sources
    work, s = optimize.prepare(sources, catalog, optimize.Options(target="gpt-5.4"))
    out = tmp_path / "out.txt"
    result = optimize.write_rewritten(work, sources, out, s.model)
    written = out.read_bytes().decode("utf-8")
    assert src.read_bytes() == text.encode("utf-8")
    assert written == 'Intro\r\n\r\n' + para + '\r\n\r\n```json\r\n{"a":1}\r\n```\r\n        indented stays\r\n'
    enc = reference["o200k_base"]
    assert result.tokens_before == len(enc.encode_ordinary(text))
    assert result.tokens_after == len(enc.encode_ordinary(written))
    with pytest.raises(InputError, match="overwrite the input"):
        optimize.write_rewritten(work, sources, src, s.model)
