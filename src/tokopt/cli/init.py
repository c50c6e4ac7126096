"""`tokopt init`: write a commented starter tokopt.toml with budgets for the prompts found."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from tokopt.cli._common import PricingOption, load_user_config, note, warn
from tokopt.cli.check import CallsOption, ModelsOption, OutputTokensOption


def init_command(
    prompts: Annotated[
        list[str] | None,
        typer.Argument(
            help="Prompt files, directories or globs to budget. \\[default: prompt files found in the project]",
            show_default=False,
        ),
    ] = None,
    *,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing tokopt.toml.")] = False,
    stdout: Annotated[bool, typer.Option("--stdout", help="Print the file instead of writing it.")] = False,
    headroom: Annotated[
        int, typer.Option("--headroom", min=0, max=1000, help="Percent above today's largest value for each proposed limit.")
    ] = 25,
    model: ModelsOption = None,
    output_tokens: OutputTokensOption = None,
    calls_per_month: CallsOption = None,
    pricing: PricingOption = None,
) -> None:
    """Write a starter tokopt.toml, with budgets proposed from the prompts' cost today.

    Prompt files are found in directories named prompts (or *_prompts) and by names such as
    *.prompt.md or system_prompt.txt; name them yourself to choose. Limits are today's
    largest value plus --headroom percent, rounded up. An existing file is kept unless --force.
    """
    from tokopt import inputs, settings as settings_mod
    from tokopt.budgets import config as project_mod, init
    from tokopt.cli._common import load_catalog
    from tokopt.errors import InputError

    root = Path.cwd()
    target = root / project_mod.CONFIG_NAME
    if target.exists() and not force and not stdout:
        raise InputError(f"{project_mod.CONFIG_NAME} already exists: {target}", hint="pass --force to overwrite it, or --stdout to print")
    catalog = load_catalog(pricing)
    settings = settings_mod.resolve(load_user_config(catalog), models=model, output_tokens=output_tokens, calls=calls_per_month)
    models = catalog.select(settings.models.value) if settings.models.value else catalog.defaults()

    named_dirs: list[str] = []
    everything = init.project_files(root)
    if prompts:
        expansion = inputs.expand(prompts)
        files = []
        for source in expansion.sources:
            rel = _inside(source.path, root)
            if rel is None:
                raise InputError(f"not inside the project directory {root}: {source.label}")
            files.append(rel)
        named_dirs = [d for d in (_inside(Path(p), root) for p in prompts if Path(p).is_dir()) if d is not None]
        named_dirs = ["" if d == "." else d for d in named_dirs]
    else:
        files = init.discover(everything)
    result = init.propose(
        root,
        sorted(set(files)),
        models,
        model_ids=[m.id for m in models],
        output_tokens=settings.output_tokens.value,
        calls_per_month=settings.calls.value,
        headroom=headroom,
        named_dirs=named_dirs,
        all_files=everything,
    )
    for line in result.skipped:
        warn(line)
    if stdout:
        sys.stdout.write(result.text)
        return
    target.write_text(result.text, encoding="utf-8")
    if not result.files:
        warn("no prompt files found; the budgets in tokopt.toml are an example to edit (or name files: tokopt init prompts/)")
    note(f"wrote {target.name}: {len(result.budgets)} budgets for {len(result.files)} prompt files; run `tokopt check`")
    if project_mod.has_tool_table(root / project_mod.PYPROJECT):
        note("pyproject.toml has [tool.tokopt] too; tokopt.toml is the one used")


def _inside(path: Path | None, root: Path) -> str | None:
    if path is None:
        return None
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return None
