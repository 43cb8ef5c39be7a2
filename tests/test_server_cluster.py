"""Several machines: one Chroma server, two `assistant serve` processes on separate data
directories, and an ingest from a third process. A document ingested anywhere is answered
everywhere within seconds."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from .conftest import ROOT, free_port
from .server_helpers import ORBIT_EN, wait_until_up

pytestmark = [pytest.mark.server, pytest.mark.slow]

WITHIN_S = 10.0


def env_for(chroma: tuple[str, int], data_dir: Path) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "ASSISTANT_CHROMA_HOST": chroma[0],
        "ASSISTANT_CHROMA_PORT": str(chroma[1]),
        "ASSISTANT_COLLECTION": f"cluster{os.getpid()}",
        "ASSISTANT_DATA_DIR": str(data_dir),
        "ASSISTANT_EMBEDDER": "fake:256",
    }


@pytest.fixture
def services(chroma_server: tuple[str, int], tmp_path: Path) -> Iterator[list[str]]:
    procs, urls = [], []
    for name in ("a", "b"):
        port = free_port()
        log = (tmp_path / f"serve-{name}.log").open("w")
        procs.append(
            subprocess.Popen(
                [sys.executable, "-m", "assistant.cli", "serve", "--port", str(port)],
                env=env_for(chroma_server, tmp_path / f"data-{name}"),
                cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
            )
        )  # fmt: skip
        urls.append(f"http://127.0.0.1:{port}")
    try:
        for url, proc in zip(urls, procs, strict=True):
            wait_until_up(url, lambda p=proc: p.poll() is None, path="/readyz", timeout=120)
        yield urls
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(20)


def answer_everywhere(urls: list[str], question: str, expected: str) -> float:
    """Seconds until every service answers with ``expected``."""
    started = time.monotonic()
    pending = set(urls)
    last: dict[str, str] = {}
    while pending and time.monotonic() - started < WITHIN_S:
        for url in sorted(pending):
            response = httpx.post(f"{url}/v1/ask", json={"question": question}, timeout=30)
            last[url] = response.text
            if response.status_code == 200 and expected in response.json()["answer"]:
                pending.discard(url)
        time.sleep(0.2)
    assert not pending, f"not answered within {WITHIN_S}s: {last}"
    return time.monotonic() - started


def test_ingested_anywhere_answered_everywhere(
    services: list[str], chroma_server: tuple[str, int], tmp_path: Path
) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "orbit.en.md").write_text(ORBIT_EN, encoding="utf-8")
    # A third machine ingests straight into the shared Chroma server.
    ingest = subprocess.run(
        [sys.executable, "-m", "assistant.cli", "ingest", str(docs)],
        env=env_for(chroma_server, tmp_path / "data-c"), cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert ingest.returncode == 0, ingest.stderr
    answer_everywhere(services, "At what time does the Orbit tea shop open every morning?", "7:30")

    # A document uploaded to one service is answered by the other.
    doc = "# Lantern ferry\n\nThe lantern ferry to Kiri island leaves from pier 4 at dusk.\n"
    report = httpx.post(f"{services[0]}/v1/ingest", json={"files": [{"name": "ferry.md", "content": doc}]},
                        timeout=60)  # fmt: skip
    assert report.status_code == 200 and len(report.json()["added"]) == 1
    answer_everywhere(services, "Which pier does the lantern ferry leave from?", "pier 4")
    documents = httpx.get(f"{services[1]}/v1/documents", timeout=30).json()["data"]
    assert len(documents) == 2
