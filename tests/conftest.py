"""Shared fixtures: settings in tmp_path, the fake embedder, a real Chroma server."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.pipeline import Assistant
from assistant.settings import Settings, load_settings

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
#: The seed article: what most tests ask about (the default corpus holds related articles too).
SEED = CORPUS / "containers-vs-vms.ja.md"
SHARED = ROOT.parent / "shared"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings for a fresh index of the seed article in tmp_path, with the deterministic fake embedder."""
    return load_settings(data_dir=tmp_path / "data", embedder="fake:256", corpus=[SEED])


@pytest.fixture
def bot(settings: Settings) -> Assistant:
    return Assistant(settings)


@pytest.fixture(scope="session")
def seed_bot(tmp_path_factory: pytest.TempPathFactory) -> Assistant:
    """The default pipeline (real embedder) over the seed article, built once."""
    data = tmp_path_factory.mktemp("seed-index")
    assistant = Assistant(load_settings(data_dir=data, corpus=[SEED]))
    assistant.ingest()
    return assistant


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    """A real `chroma run` server on 127.0.0.1, for the client/server mode."""
    # The venv's bin directory may not be on PATH (make calls .venv/bin/python directly).
    beside = Path(sys.executable).parent / "chroma"
    exe = str(beside) if beside.exists() else shutil.which("chroma")
    if exe is None:
        pytest.skip("the `chroma` command is not installed")
    port = free_port()
    path = tmp_path_factory.mktemp("chroma-server")
    log = (path / "server.log").open("w")
    process = subprocess.Popen(
        [exe, "run", "--path", str(path / "db"), "--host", "127.0.0.1", "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                break
        except OSError:
            if process.poll() is not None:
                pytest.fail(f"chroma run exited: {(path / 'server.log').read_text()}")
            time.sleep(0.2)
    else:
        process.kill()
        pytest.fail("chroma run did not start within 60 s")
    yield "127.0.0.1", port
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
    log.close()
