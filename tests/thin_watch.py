"""Run a module as ``python -m`` would, while recording which heavy modules it has loaded.

    python -m tests.thin_watch REPORT.json MODULE [ARGS...]

A thread writes the names of the watched modules present in ``sys.modules`` (torch,
sentence-transformers, chromadb, ...) to ``REPORT.json`` at start and whenever the set
changes, so a test can read what a long-running frontend (the Streamlit server) has
imported so far, while it runs. Nothing is blocked or replaced: the process runs as usual.
"""

from __future__ import annotations

import json
import runpy
import sys
import threading
import time
from pathlib import Path

#: Top-level modules a thin client must never load.
HEAVY = ("torch", "sentence_transformers", "transformers", "chromadb", "onnxruntime")


def loaded() -> list[str]:
    return sorted(name for name in list(sys.modules) if name.split(".", 1)[0] in HEAVY and "." not in name)


def watch(report: Path, interval: float = 0.1) -> None:
    last: list[str] | None = None
    while True:
        now = loaded()
        if now != last:
            tmp = report.with_suffix(".tmp")
            tmp.write_text(json.dumps({"heavy": now, "modules": len(sys.modules)}), encoding="utf-8")
            tmp.replace(report)
            last = now
        time.sleep(interval)


def main() -> None:
    report, module, *args = sys.argv[1:]
    threading.Thread(target=watch, args=(Path(report),), name="import-watch", daemon=True).start()
    sys.argv = [module, *args]
    runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
