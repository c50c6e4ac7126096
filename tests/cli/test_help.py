"""Help texts as users read them: rich markup must not eat what we wrote in brackets."""

from __future__ import annotations

import re

import typer.main

from tokopt.cli import app


def commands(cmd, path: tuple[str, ...] = ()):  # typer's (vendored) click commands
    yield path, cmd
    if hasattr(cmd, "commands"):
        for name, sub in cmd.commands.items():
            yield from commands(sub, (*path, name))


def test_no_help_text_has_an_unescaped_bracket():
    # rich reads `[default: 500]` as a style tag and drops it; `\[` keeps it
    bad = []
    for path, cmd in commands(typer.main.get_command(app)):
        texts = [("help", cmd.help or "")] + [(p.name, getattr(p, "help", None) or "") for p in cmd.params]
        for name, text in texts:
            if re.search(r"(?<!\\)\[[a-z/#@]", text):
                bad.append(f"{' '.join(path) or 'tokopt'} {name}: {text}")
    assert not bad, "\n".join(bad)


def test_defaults_in_brackets_reach_the_screen(run):
    result = run("session", "start", "--help")
    assert "[default: its id]" in result.output
    result = run("estimate", "--help")
    assert "[env var: TOKOPT_PRICING]" in " ".join(result.output.split())
