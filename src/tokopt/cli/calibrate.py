"""`tokopt calibrate`: approximate models' factors from the usage providers reported."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tokopt.cli._common import FormatOption, MaxInputSizeOption, OutputFormat, PricingOption, complete_model, emit, load_catalog, note, warn


def calibrate_command(
    requests: Annotated[
        Path,
        typer.Argument(
            help="A batch input file (OpenAI Batch or Anthropic Message Batches), a JSONL of {\"request\", \"response\"} pairs, or one request (JSON).",
            show_default=False,
        ),
    ],
    results: Annotated[
        Path | None,
        typer.Argument(help="The batch's results file, or the request's count_tokens result (or response).", show_default=False),
    ] = None,
    *,
    model: Annotated[
        str | None,
        typer.Option("--model", "-m", help="Calibrate every request as this model (default: each request's own).", autocompletion=complete_model, show_default=False),
    ] = None,
    write: Annotated[bool, typer.Option("--write", help="Write the fitted factors to your pricing file (TOKOPT_PRICING, else pricing.toml in the config directory).")] = False,
    project: Annotated[bool, typer.Option("--project", help="With --write: to the project's pricing file (the first of `pricing` in tokopt.toml).")] = False,
    output_format: FormatOption = OutputFormat.table,
    pricing: PricingOption = None,
    max_input_size: MaxInputSizeOption = None,
) -> None:
    """Fit the factors of approximate models (Claude, Gemini, ...) to the input tokens their provider
    reported for your requests, per content class, and show the error before and after.

    Nothing is sent anywhere: the provider's counts come from the files given. With --write the
    factors go to a pricing file, where estimate, check and the ledger find them.
    """
    from tokopt import paths
    from tokopt.calibrate import run as run_mod, sources, write as write_mod
    from tokopt.render import calibrate as view

    if project and not write:
        raise typer.BadParameter("--project says where --write writes: give --write too", param_hint="'--project'")
    catalog = load_catalog(pricing)
    chosen = catalog.get(model) if model is not None else None
    pairs = sources.read(requests, results, max_size=max_input_size)
    result = run_mod.run(pairs, catalog, requests.name, model=chosen)
    for line in result.skipped:
        warn(line)
    written = None
    if write:
        fitted = [(c.model.id, c.tokenizer) for c in result.calibrations if c.tokenizer is not None]
        if fitted:
            target = _project_pricing() if project else _user_pricing(paths)
            for line in write_mod.write(target, fitted):
                note(line)
            written = target
        else:
            warn("nothing to write: no approximate model among the requests")
    emit(
        output_format,
        document=lambda: view.document(result, written),
        rows=lambda: view.rows(result),
        grids=lambda: view.grids(result, written),
    )


def _user_pricing(paths: object) -> Path:
    files = paths.user_pricing_files()  # type: ignore[attr-defined]
    return files[0] if files else paths.config_dir() / "pricing.toml"  # type: ignore[attr-defined]


def _project_pricing() -> Path:
    from tokopt.budgets import config
    from tokopt.errors import ConfigError

    found = config.locate(None, Path.cwd())
    files = found.pricing_files()
    if not files:
        raise ConfigError(
            f"{found.path}: no pricing file to write to",
            hint='add pricing = ["pricing/calibrated.toml"] to it (an empty file will do), then run calibrate --write --project again',
        )
    return files[0]
