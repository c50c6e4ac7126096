"""The typer application of `tokopt` (see cli/__init__.py: `main()` builds only the command it runs)."""

from __future__ import annotations

import importlib
import sys
from typing import Annotated, Any

import typer

from tokopt import __version__, cli
from tokopt.cli._common import TokoptGroup

_filled: set[str] = set()


def _load(target: str) -> Any:
    module, attribute = target.split(":")
    return getattr(importlib.import_module(module), attribute)


def _version(value: bool) -> None:
    if value:
        sys.stdout.write(f"tokopt {__version__}\n")
        raise typer.Exit()


def root(
    version: Annotated[
        bool,
        typer.Option("--version", "-V", callback=_version, is_eager=True, help="Print the version and exit."),
    ] = False,
) -> None:
    """Exact token counts and costs for LLM prompts, offline.

    Exit codes: 0 ok, 1 a budget check failed, 2 bad usage or input, 3 an internal error.
    """


def build_app(only: str | None = None) -> typer.Typer:
    """The app with every command, or with the command `only` alone."""
    application = typer.Typer(
        name="tokopt",
        cls=TokoptGroup,
        help="Exact token counts and costs for LLM prompts, offline.",
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        context_settings={"help_option_names": ["-h", "--help"]},
    )
    application.callback()(root)
    for name, target in cli.COMMANDS.items():
        if only is not None and name != only:
            continue
        registered = _load(target)
        if isinstance(registered, typer.Typer):
            if name in cli.GROUP_COMMANDS and name not in _filled:  # once: the group is a module's object
                for sub, sub_target in cli.GROUP_COMMANDS[name].items():
                    registered.command(name=sub)(_load(sub_target))
                _filled.add(name)
            application.add_typer(registered, name=name)
        else:
            application.command(name=name)(registered)
    return application


_full_app: typer.Typer | None = None


def full_app() -> typer.Typer:
    """The app with every command (made once)."""
    global _full_app
    if _full_app is None:
        _full_app = build_app()
    return _full_app
