"""Globs: git's wildcard rules through pathspec, matched against whole file paths, whatever bytes they hold."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tokopt.inputs import globs


@pytest.mark.parametrize(
    ("pattern", "yes", "no"),
    [
        ("prompts/*", ["prompts/a", "prompts/.a"], ["prompts/x/a", "prompts"]),  # not everything below, as .gitignore would
        ("prompts/*.md", ["prompts/a.md"], ["prompts/x.md/a.txt"]),
        ("a/**/b", ["a/b", "a/x/b", "a/x/y/b"], ["a/b/c", "b"]),
        ("**", ["a", "a/b/c"], []),
        ("a[!x]b", ["ayb"], ["a/b", "axb"]),  # a class never matches a '/', as in git
        ("a?b", ["ayb"], ["a/b"]),
        ("[[]x].md", ["[x].md"], ["x.md"]),
        ("#notes/!x.md", ["#notes/!x.md"], []),  # no comments or negation: those are .gitignore syntax
    ],
)
def test_semantics(pattern, yes, no):
    glob = globs.compile(globs.check(pattern))
    for path in yes:
        assert glob.matches(path), (pattern, path)
    for path in no:
        assert not glob.matches(path), (pattern, path)


@pytest.mark.parametrize("pattern", ["prompts/**", "prompts/**/*.md", "**/*.md", "prompts/*.md", "prompts/*"])
@pytest.mark.parametrize("name", ["a\nb.md", "new\nline/c.md", "tab\t/x.md", "end.md\n/y.md", " space.md"])
def test_any_bytes_in_a_name_are_matched(pattern, name):
    # a newline in a name once hid a prompt from `prompts/**`: a budget bypass
    path = f"prompts/{name}"
    expected = {
        "prompts/**": True,
        "prompts/**/*.md": True,
        "**/*.md": True,
        "prompts/*.md": "/" not in name,
        "prompts/*": "/" not in name,
    }[pattern]
    assert globs.compile(pattern).matches(path) is expected


def test_whitespace_at_the_end_of_a_pattern_is_part_of_it():
    assert globs.compile("a.md ").matches("a.md ") and not globs.compile("a.md ").matches("a.md")
    assert globs.compile("a\n").matches("a\n") and not globs.compile("a\n").matches("a")
    assert not globs.compile("a.md").matches("a.md\n")


@pytest.mark.parametrize(
    ("pattern", "words"),
    [
        ("", "empty"),
        ("  ", "empty"),
        ("prompts/[ab.md", "'[' without a closing ']'"),
        ("prompts/[].md", "empty character class"),
        ("p/[z-a].md", "bad character range"),
        ("/etc/*.md", "relative"),
        ("C:/x/*.md", "relative"),
        ("../x/*.md", "leaves the project"),
        ("a//b", "empty path segment"),
        ("a/./b", "empty path segment"),
        ("a**/b", "whole path segment"),
        ("a\\b", "use /"),
    ],
)
def test_bad_globs_say_why(pattern, words):
    with pytest.raises(ValueError, match=re.escape(words)):
        globs.check(pattern)


def test_check_normalises():
    assert globs.check("./prompts/") == "prompts"
    assert globs.check("././a.md") == "a.md"


segment = st.text(st.characters(blacklist_characters="/\0", blacklist_categories=("Cs",)), min_size=1, max_size=8).filter(
    lambda s: s not in (".", "..") and "**" not in s
)


@given(
    st.lists(segment, min_size=1, max_size=4).filter(
        lambda parts: "".join(parts).strip() and not re.match(r"^[A-Za-z]:", parts[0])
    )
)
def test_an_escaped_path_matches_itself_and_nothing_else(parts):
    # (a pattern of only whitespace is refused as empty: it is a mistake, not a file name;
    # one that starts like a Windows drive, "C:", is refused as absolute)
    path = "/".join(parts)
    pattern = globs.check(globs.escape(path))
    assert globs.compile(pattern).matches(path)
    assert not globs.compile(pattern).matches(path + "x")


def test_literal_prefix():
    assert globs.literal_prefix("prompts/support/*.md") == "prompts/support"
    assert globs.literal_prefix("**/*.md") == ""
    assert globs.literal_prefix("a/b/c.md") == "a/b"
    assert globs.literal_prefix("a/[b]/c.md") == "a"


def test_glob_characters_have_one_definition():
    assert globs.has_glob("claude-*") and globs.has_glob("a[b]") and globs.has_glob("a?")
    assert not globs.has_glob("gpt-5.5") and not globs.has_glob("a{b}")


def test_a_backslash_is_held_only_escaped():
    assert globs.escape("a\\b") == "a[\\]b"
    assert globs.compile(globs.check("a[\\]b")).matches("a\\b")
    with pytest.raises(ValueError, match="use /"):
        globs.check("a\\b")
