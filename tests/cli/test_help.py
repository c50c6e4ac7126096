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
    assert "[env var: TOKOPT_PRICING]" in " ".join(result.output.replace("│", " ").split())


def test_help_shows_plain_metavars_and_never_splits_one(monkeypatch):
    from typer.testing import CliRunner

    from tokopt.cli._common import _direct_conversion

    root = typer.main.get_command(app)
    ctx = root.make_context("tokopt", ["--help"], resilient_parsing=True)
    _direct_conversion(root, ctx)  # what running a command does before its help
    bad = []
    for path, cmd in commands(root):
        if hasattr(cmd, "commands") and path:
            continue  # a group lists its commands
        for width in (60, 80, 120):
            monkeypatch.setenv("COLUMNS", str(width))
            r = CliRunner().invoke(app, [*path, "--help"], catch_exceptions=False)
            assert r.exit_code == 0, r.output
            text = r.stdout
            if re.search(r"<(list|int|bool|str|Path|float)\b|\[x[<>]=", text):
                bad.append(f"{' '.join(path)} at {width}: a Python type or a range in the help")
            for param in cmd.params:
                shown = param.metavar or ""
                if shown and shown not in text:
                    bad.append(f"{' '.join(path)} at {width}: {shown!r} is not shown whole")
    assert not bad, "\n".join(bad)


def test_long_choices_are_named_in_the_help_text(run):
    out = " ".join(run("estimate", "--help").output.replace("│", " ").split())
    assert "--sort SORT Order of the rows. One of: cost, name, tokens or provider." in out
    assert "--encoding-errors strict|replace" in out
    out = " ".join(run("session", "report", "--help").output.replace("│", " ").split())
    assert (
        "--by -b BY One row per model, run, user, provider, agent, session, project, branch, or period. "
        "One of: model, run, user, provider, agent, session, project, branch, hour, day, week or month."
    ) in out
