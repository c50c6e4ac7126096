"""Every command's output over a fixed workspace equals the recorded golden output.

A difference is a behaviour change. If it is intended, regenerate (see tests/golden/cases.py)
and commit the new outputs with the change that explains them.
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.golden.cases import CASES, build_workspace, env_for, normalise, output_path, render, update_requested
from tokopt.cli import app


def test_golden_outputs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ws = tmp_path / "ws"
    for key in ("GIT_AUTHOR_DATE", "GIT_COMMITTER_DATE"):
        monkeypatch.setenv(key, "")
    build_workspace(ws)
    monkeypatch.setenv("COLUMNS", "100")
    runner = CliRunner()
    changed: list[str] = []
    run_ids: dict[str, str] = {}
    first_diff = ""
    for case in CASES:
        with monkeypatch.context() as m:
            for key, value in env_for(case, ws).items():
                m.setenv(key, value)
            m.chdir(ws / case.cwd)
            r = runner.invoke(app, list(case.argv), input=case.stdin, catch_exceptions=False)
        got = normalise(render(r.exit_code, r.stdout, r.stderr), ws, run_ids)
        path = output_path(case)
        if update_requested():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(got, encoding="utf-8")
            continue
        want = path.read_text(encoding="utf-8") if path.exists() else "(no golden output recorded)\n"
        if got != want:
            changed.append(case.name)
            if not first_diff:
                first_diff = "".join(
                    difflib.unified_diff(want.splitlines(True), got.splitlines(True), f"golden/{case.name}", "now")
                )
    assert not changed, f"{len(changed)} outputs changed: {', '.join(changed)}\n{first_diff}"
    if not update_requested():
        recorded = {p.stem for p in output_path(CASES[0]).parent.glob("*.txt")}
        assert recorded == {c.name for c in CASES}, "stale golden files: " + ", ".join(sorted(recorded - {c.name for c in CASES}))
