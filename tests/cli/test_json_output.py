"""JSON output: compact from the json module's C encoder when read by a program, indented at a
terminal; the same document either way."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from decimal import Decimal

from tokopt.render import machine


def test_compact_json_is_one_line_and_carries_money_as_decimal_strings():
    doc = {"cost_usd": Decimal("0.00000050"), "name": "naïve ✓", "rows": [{"n": 1}, {"n": 2}]}
    text = machine.to_json(doc)
    assert text == '{"cost_usd":"0.0000005","name":"naïve ✓","rows":[{"n":1},{"n":2}]}\n'
    assert json.loads(text) == json.loads(machine.to_json(doc, pretty=True))
    assert machine.to_json(doc, pretty=True).startswith('{\n  "cost_usd": "0.0000005",')


def _run(args, tmp_path, *, tty: bool) -> str:
    cmd = [sys.executable, "-m", "tokopt", *args]
    if not tty:
        r = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp_path)
        assert r.returncode == 0, r.stderr
        return r.stdout
    leader, follower = pty.openpty()
    proc = subprocess.Popen(cmd, stdout=follower, stderr=subprocess.DEVNULL, cwd=tmp_path, env={**os.environ, "COLUMNS": "100"})
    os.close(follower)
    out = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the terminal closed: the command has finished
            break
        if not chunk:
            break
        out += chunk
    os.close(leader)
    assert proc.wait() == 0
    return out.decode().replace("\r\n", "\n")


def test_piped_json_is_compact_and_a_terminal_gets_it_indented(tmp_path):
    (tmp_path / "p.txt").write_text("Summarise the meeting notes below.\n")
    args = ["estimate", "p.txt", "-f", "json", "-m", "gpt-5.4"]
    piped = _run(args, tmp_path, tty=False)
    shown = _run(args, tmp_path, tty=True)
    assert piped.count("\n") == 1 and shown.count("\n") > 10
    assert json.loads(piped) == json.loads(shown)
