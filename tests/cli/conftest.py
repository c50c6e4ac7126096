from __future__ import annotations

import pytest
from typer.testing import CliRunner

from tokopt.cli import app


class Runner:
    """Invoke tokopt in-process; bugs raise instead of being turned into an exit code."""

    def __init__(self) -> None:
        self._runner = CliRunner()

    def __call__(self, *args: str, input: str | bytes | None = None):  # type: ignore[no-untyped-def]
        return self._runner.invoke(app, list(args), input=input, catch_exceptions=False)


@pytest.fixture
def run() -> Runner:
    return Runner()
