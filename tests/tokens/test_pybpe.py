"""The Python BPE's ASCII pre-tokenizer (Python's `re`) splits ASCII text exactly as the full one."""

from __future__ import annotations

import re
import sys

import pytest
import regex
from hypothesis import given, settings
from hypothesis import strategies as st

from tokopt import tokens
from tokopt.tokens import pybpe
from tests.helpers import python_output

ENCODINGS = ("cl100k_base", "o200k_base")
ASCII = st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=127))
# The characters where the pre-tokenizers' classes meet, more often than uniform text has them.
EDGY = st.lists(st.sampled_from(list("aZ 09\t\n\r\x0b\x0c\x1c\x1f'sStTdDmMlLvVrReE/;,.!-_") + ["  ", "\r\n", "'ll", "'RE", "  x"]), max_size=40).map("".join)


@pytest.mark.skipif(sys.version_info < (3, 11), reason="the ASCII patterns use possessive quantifiers")
@settings(max_examples=600)
@given(text=ASCII | EDGY)
def test_ascii_pattern_splits_like_the_full_pattern(text):
    for name in ENCODINGS:
        full = regex.compile(tokens.SPECS[name].pat_str).findall(text)
        assert re.compile(pybpe.ASCII_PATTERNS[name]).findall(text) == full, (name, text)


def test_ascii_text_does_not_import_the_regex_module():
    code = (
        "import sys\n"
        "from tokopt.tokens import pybpe\n"
        "bpe = pybpe.get('o200k_base')\n"
        "n = bpe.count('Hello, world! def f(x):\\n    return x  # plain ASCII\\n')\n"
        "print(n, 'regex' in sys.modules)\n"
        "bpe.count('naïve')\n"
        "print('regex' in sys.modules)\n"
    )
    first, second = python_output(code).split("\n")[:2]
    assert first.split()[1] == "False" and second == "True"
