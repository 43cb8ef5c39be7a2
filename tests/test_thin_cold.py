"""Cold start: what a fresh process imports. ``assistant --help``, ``info``/``ask`` through the
service and the CLI's error paths, and the thin frontends' factories, must not import torch,
sentence-transformers or chromadb. Read from ``python -X importtime`` (every module the real
process imported) and from ``sys.modules`` of a fresh interpreter; no timing is asserted
(figures: benchmarks/service.py).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import free_port

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("torch", "sentence_transformers", "transformers", "chromadb", "onnxruntime")


def env(tmp_path: Path, **extra: str) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    return {**clean, "PYTHONPATH": str(ROOT), "ASSISTANT_DATA_DIR": str(tmp_path / "data"), **extra}


def imported(stderr: str) -> set[str]:
    """Top-level packages in ``-X importtime`` output (``import time: self | cumulative | name``)."""
    names = set()
    for line in stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            name = line.rsplit("|", 1)[1].strip()
            if name and name != "imported package":
                names.add(name.split(".", 1)[0])
    return names


def cli(tmp_path: Path, *args: str, **extra: str) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "assistant.cli", *args],
        cwd=tmp_path, env=env(tmp_path, **extra), capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    return proc, imported(proc.stderr)


def test_importtime_parsing_sees_a_heavy_import(tmp_path: Path) -> None:
    """The check below can fail: an embedded `info` does import chromadb."""
    proc, modules = cli(tmp_path, "--embedder", "fake:256", "info")
    assert proc.returncode == 5, proc.stderr[-2000:]  # no index yet
    assert "chromadb" in modules and "assistant" in modules


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["ask", "--help"],
        ["slack", "--help"],
        ["serve", "--help"],
        ["ingest", "--help"],
        ["no-such-command"],
        ["--top-k", "0", "ask", "hello"],  # invalid settings
    ],
    ids=lambda a: " ".join(a),
)
def test_help_and_error_paths_import_no_model_and_no_store(tmp_path: Path, args: list[str]) -> None:
    proc, modules = cli(tmp_path, *args)
    assert proc.returncode in (0, 2), proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr
    assert not modules & set(HEAVY), sorted(modules & set(HEAVY))


@pytest.mark.parametrize("command", [["info"], ["ask", "コンテナとは？"], ["ask", "--json", "hello"]])
def test_through_a_service_that_is_down_the_cli_says_so_without_loading_models(
    tmp_path: Path, command: list[str]
) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    proc, modules = cli(tmp_path, *command, ASSISTANT_SERVER_URL=url)
    assert proc.returncode == 7, proc.stderr[-2000:]
    assert f"error: The assistant service at {url} cannot be reached" in proc.stderr
    assert "hint: Start it with `assistant serve`" in proc.stderr and "Traceback" not in proc.stderr
    assert not modules & set(HEAVY), sorted(modules & set(HEAVY))


THIN_FRONTENDS = """
import sys
from assistant.settings import load_settings
from assistant.door import open_assistant
import ui.factory, ui.jobs, ui.sidebar, assistant.slack.app
settings = load_settings(server_url=sys.argv[1])
bot = ui.factory.get_assistant(settings)
assert type(bot).__name__ == "RemoteAssistant", type(bot)
assert type(assistant.slack.app.make_assistant(settings)).__name__ == "RemoteAssistant"
ui.factory.get_variant(bot, 2, "extractive")
print(" ".join(sorted(m for m in sys.modules if m.split(".")[0] in {heavy!r})))
"""


def test_the_thin_frontends_import_no_model_and_no_store(tmp_path: Path) -> None:
    pytest.importorskip("streamlit")
    pytest.importorskip("slack_bolt")
    code = THIN_FRONTENDS.format(heavy=set(HEAVY))
    url = f"http://127.0.0.1:{free_port()}"
    proc = subprocess.run([sys.executable, "-c", code, url], cwd=tmp_path, env=env(tmp_path),
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip() == "", proc.stdout
