"""The CLI as a thin client of the service, and what it imports (cold start)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.pipeline import Assistant
from assistant.settings import Settings, load_settings

from .conftest import ROOT
from .server_helpers import ORBIT_EN, running_service

HEAVY = ("torch", "sentence_transformers", "transformers")

PROBE = """
import json, sys
from assistant.cli import main
try:
    code = main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
heavy = sorted({m.split('.')[0] for m in sys.modules} & set(json.loads(sys.stdin.readline())))
sys.stderr.write("\\nMODULES " + json.dumps({"code": code, "heavy": heavy}) + "\\n")
"""


def run_cli(
    args: list[str], env: dict[str, str], watch: tuple[str, ...] = HEAVY
) -> tuple[int, list[str], str]:
    """Run the CLI in a fresh interpreter; return its exit code, the heavy modules it imported, stdout."""
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        input=json.dumps(list(watch)) + "\n",
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), **env},
    )
    line = next((x for x in proc.stderr.splitlines() if x.startswith("MODULES ")), None)
    assert line is not None, proc.stderr
    probe = json.loads(line[8:])
    return int(probe["code"] or 0), probe["heavy"], proc.stdout


@pytest.fixture
def indexed(tmp_path: Path) -> Settings:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "orbit.en.md").write_text(ORBIT_EN, encoding="utf-8")
    settings = load_settings(data_dir=tmp_path / "data", embedder="fake:256", corpus=[docs])
    Assistant(settings).ingest()
    return settings


@pytest.mark.slow
def test_help_info_and_errors_do_not_import_torch(tmp_path: Path, indexed: Settings) -> None:
    env = {"ASSISTANT_DATA_DIR": str(indexed.data_dir), "ASSISTANT_EMBEDDER": "sentence-transformers:x"}
    code, heavy, out = run_cli(["--help"], env)
    assert code == 0 and heavy == [] and "serve" in out
    code, heavy, out = run_cli(["info"], env)
    assert code == 0 and heavy == [] and "orbit.en.md" in out
    code, heavy, _ = run_cli(["ask", "  "], env)  # an empty question
    assert code == 4 and heavy == []
    code, heavy, _ = run_cli(["ask", "what?"], {"ASSISTANT_DATA_DIR": str(tmp_path / "empty")})  # no index
    assert code == 5 and heavy == []


@pytest.fixture
def service(indexed: Settings) -> Iterator[str]:
    with running_service(indexed) as url:
        yield url


@pytest.mark.slow
def test_cli_through_the_service(service: str, indexed: Settings, tmp_path: Path) -> None:
    env = {"ASSISTANT_SERVER_URL": service, "ASSISTANT_DATA_DIR": str(tmp_path / "client-data")}
    watch = HEAVY  # (chromadb too, once the Slack plugin's import of its app is lazy)
    code, heavy, out = run_cli(["ask", "--json", "At what time does the Orbit tea shop open every morning?"],
                               env, watch)  # fmt: skip
    assert code == 0, out
    assert heavy == []  # no model in the client
    data = json.loads(out)
    assert "7:30" in data["answer"] and data["citations"][0]["source"].endswith("orbit.en.md")

    code, heavy, out = run_cli(["ask", "What is the best-known drink of the Orbit tea shop?"], env, watch)
    assert code == 0 and "hojicha" in out and "sources:" in out

    code, _, out = run_cli(["info", "--json"], env)
    assert code == 0 and json.loads(out)["documents"] == 1

    doc = tmp_path / "more" / "ferry.md"
    doc.parent.mkdir()
    doc.write_text("# Lantern ferry\n\nThe lantern ferry leaves from pier 4 at dusk.\n", encoding="utf-8")
    code, _, out = run_cli(["ingest", str(doc.parent)], env)
    assert code == 0 and "1 added" in out
    code, _, out = run_cli(["--server", service, "ask", "Which pier does the lantern ferry leave from?"],
                           {"ASSISTANT_DATA_DIR": str(tmp_path / "client-data")})  # fmt: skip
    assert code == 0 and "pier 4" in out


def test_unreachable_service_is_a_clear_error(tmp_path: Path) -> None:
    from .conftest import free_port

    env = {"ASSISTANT_SERVER_URL": f"http://127.0.0.1:{free_port()}", "ASSISTANT_DATA_DIR": str(tmp_path)}
    proc = subprocess.run([sys.executable, "-m", "assistant.cli", "ask", "hello?"], capture_output=True,
                          text=True, timeout=60, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT), **env})  # fmt: skip
    assert proc.returncode == 7
    assert "cannot be reached" in proc.stderr and "assistant serve" in proc.stderr
