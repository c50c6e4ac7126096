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


def one_error_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert lines, "expected an error message on stderr"
    assert lines[0].startswith("error: "), stderr
    assert all(line.startswith(("error: ", "hint: ")) for line in lines), stderr
    assert "Traceback" not in stderr
    return lines[0]
