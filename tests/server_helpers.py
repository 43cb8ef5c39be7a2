"""Starting the real service (uvicorn on a free port) for tests and benchmarks."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import httpx
import uvicorn

from assistant.server.app import create_app
from assistant.settings import Settings

from .conftest import free_port

ADMIN_KEY = "admin-key-for-tests"
READ_KEY = "read-key-for-tests"

ORBIT_EN = """# The Orbit tea shop

The Orbit tea shop stands beside the old harbour of Minato town.

## Opening hours

The Orbit tea shop opens at 7:30 every morning and closes at 19:00. On Sundays it stays closed.

## Menu

The best-known drink of the Orbit tea shop is a smoked hojicha latte served with yuzu peel.
"""

ORBIT_JA = """# 星見坂図書館

星見坂図書館は丘の上にある小さな図書館です。

## 貸出

一度に借りられる本は八冊までで、貸出期間は三週間です。

## 設備

二階には天体望遠鏡のある観測室があります。
"""


def wait_until_up(
    url: str, alive: Callable[[], bool], *, path: str = "/healthz", timeout: float = 30
) -> None:
    """Poll ``url + path`` until it answers 200; fail when ``alive()`` turns false or time runs out."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(f"{url}{path}", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline or not alive():
            raise RuntimeError(f"the service at {url} did not answer {path}")
        time.sleep(0.05)


@contextmanager
def running_service(settings: Settings, *, warm_up: bool = False, port: int | None = None) -> Iterator[str]:
    """The real app under uvicorn in a thread (on ``port``, or a free one); yields its base URL."""
    port = port or free_port()
    config = uvicorn.Config(create_app(settings, warm_up=warm_up), host="127.0.0.1", port=port,
                            log_level="warning", access_log=False)  # fmt: skip
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    wait_until_up(url, thread.is_alive)
    try:
        yield url
    finally:
        server.should_exit = True
        thread.join(10)
