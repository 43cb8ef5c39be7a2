"""Fault injection: kill -9 ingests, rebuilds and prunes at random moments.

Each round changes the corpus a little (edits a document, deletes or restores one, or
nothing for a rebuild), starts `ingest` / `ingest --prune` / `ingest --rebuild` in a
child process with a slowed-down fake embedder, and kills it with SIGKILL after a random
delay. A reader in this process polls the index the whole time. Then the same command
runs to completion, and the index is compared with a reference built from scratch:

- lost: chunk ids the reference has and the index lacks;
- duplicated: chunks stored more than once, or ids the reference does not have;
- empty / partial reads: the reader found no index, or fewer complete documents than
  the corpus had untouched (a rebuild must never show fewer than all of them);
- leftovers: index generations other than the live one after the round.

    python benchmarks/fault_injection.py [--rounds 20] [--seed 13]

Exit status 0 when every figure is 0.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.errors import AssistantError  # noqa: E402
from assistant.pipeline import Assistant  # noqa: E402
from assistant.settings import Settings, load_settings  # noqa: E402

CHILD = """
import sys, time
from pathlib import Path
from assistant.embedders.fake import FakeEmbedder
from assistant.pipeline import Assistant
from assistant.settings import load_settings

class Slow(FakeEmbedder):
    def embed_documents(self, texts):
        time.sleep(0.02 * len(texts))
        return super().embed_documents(texts)

s = load_settings(data_dir=Path(sys.argv[1]), embedder="fake:64", chunk_size=200, chunk_overlap=40,
                  embed_batch_size=4)
embedder = Slow("64")
embedder.name = "fake:64"
Assistant(s, embedder).ingest([Path(sys.argv[2])], prune=sys.argv[3] == "prune",
                               rebuild=sys.argv[3] == "rebuild")
"""


def settings_for(data: Path) -> Settings:
    return load_settings(data_dir=data, embedder="fake:64", chunk_size=200, chunk_overlap=40)


def write_doc(docs: Path, i: int, version: int) -> None:
    body = "".join(f"文書{i}の版{version}の文{j}です。" for j in range(30 + 7 * (i % 4)))
    (docs / f"doc{i}.md").write_text(f"# 文書{i}\n\n## 節\n\n{body}", encoding="utf-8")


def reference_ids(docs: Path, work: Path) -> list[str]:
    bot = Assistant(settings_for(work / f"ref-{time.monotonic_ns()}"))
    bot.ingest([docs])
    return sorted(c.id for c in bot.store.all_chunks())


class Reader(threading.Thread):
    """Polls the index like a browser session would, counting bad reads."""

    def __init__(self, data: Path) -> None:
        super().__init__(daemon=True)
        self.bot = Assistant(settings_for(data))
        self.minimum = 0  # complete documents every read must see
        self.stop = threading.Event()
        self.reads = self.empty = self.partial = self.errors = 0
        self.samples: list[str] = []

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                self.bot.store.refresh_if_changed()
                files = self.bot.store.files()
                complete = sum(1 for r in files.values() if r.complete)
                self.reads += 1
                if not files:
                    self.empty += 1
                elif complete < self.minimum:
                    self.partial += 1
                    self.samples.append(f"{complete} complete < {self.minimum}")
            except AssistantError as exc:
                self.errors += 1
                self.samples.append(f"{type(exc).__name__}: {exc.message}")
            time.sleep(0.02)


def collections(data: Path) -> list[str]:
    import chromadb

    client = chromadb.PersistentClient(path=str(data / "chroma"))
    try:
        return sorted(c.name for c in client.list_collections())
    finally:
        client.close()


def run_child(data: Path, docs: Path, mode: str, kill_after: float | None) -> bool:
    """Run one ingest in a child; with ``kill_after`` SIGKILL it then. True if it was killed."""
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(data), str(docs), mode],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    if kill_after is not None:
        try:
            proc.wait(kill_after)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            return True
    _out, err = proc.communicate(timeout=600)
    if proc.returncode != 0:
        raise SystemExit(f"{mode} failed: {err.decode(errors='replace')[-2000:]}")
    return False


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--docs", type=int, default=8)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    work = Path(tempfile.mkdtemp(prefix="fault-injection-"))
    docs, data = work / "docs", work / "data"
    docs.mkdir()
    versions = dict.fromkeys(range(args.docs), 0)
    for i in versions:
        write_doc(docs, i, 0)
    run_child(data, docs, "ingest", None)
    reader = Reader(data)
    reader.start()
    totals = {"lost": 0, "duplicated": 0, "leftover_generations": 0, "killed": 0}
    rounds: list[dict[str, Any]] = []
    for number in range(1, args.rounds + 1):
        mode = rng.choice(["ingest", "rebuild", "prune"])
        present = sorted(versions)
        if mode == "ingest":
            i = rng.choice(present)
            versions[i] += 1
            write_doc(docs, i, versions[i])
            reader.minimum = len(present) - 1
        elif mode == "prune":
            missing = [i for i in range(args.docs) if i not in versions]
            if missing and (len(present) < 3 or rng.random() < 0.5):
                i = rng.choice(missing)
                versions[i] = 0
                write_doc(docs, i, 0)  # restored: added by the prune run
                reader.minimum = len(present)
            else:
                i = rng.choice(present)
                del versions[i]
                (docs / f"doc{i}.md").unlink()
                reader.minimum = len(present) - 1
        else:
            reader.minimum = len(present)
        delay = rng.uniform(0.3, 6.0)  # the child needs ~1.5 s to start, a rebuild ~6 s
        killed = run_child(data, docs, mode, delay)
        run_child(data, docs, mode, None)  # the same command again, to completion
        time.sleep(0.1)  # let the reader see the final state
        reader.minimum = len(versions)
        expected = reference_ids(docs, work)
        chunks = Assistant(settings_for(data)).store.all_chunks()
        ids = [c.id for c in chunks]
        lost = len(set(expected) - set(ids))
        duplicated = len(ids) - len(set(ids)) + len(set(ids) - set(expected))
        names = collections(data)
        leftovers = len([n for n in names if n.startswith("documents-") and n != "documents-meta"]) - 1
        totals["lost"] += lost
        totals["duplicated"] += duplicated
        totals["leftover_generations"] += max(0, leftovers)
        totals["killed"] += int(killed)
        rounds.append({"round": number, "op": mode, "kill_after_s": round(delay, 2), "killed": killed,
                       "lost": lost, "duplicated": duplicated, "leftovers": leftovers})  # fmt: skip
        print(f"round {number:2d}: {mode:7s} kill after {delay:4.2f}s {'(killed)' if killed else '(finished)':10s}"
              f" lost {lost} duplicated {duplicated} leftover generations {max(0, leftovers)}", flush=True)  # fmt: skip
    reader.stop.set()
    reader.join(5)
    summary = {
        **totals,
        "rounds": args.rounds,
        "reads": reader.reads,
        "empty_reads": reader.empty,
        "partial_reads": reader.partial,
        "reader_errors": reader.errors,
        "reader_samples": reader.samples[:10],
    }
    print(json.dumps(summary, ensure_ascii=False, indent=2))
    bad = summary["lost"] or summary["duplicated"] or summary["leftover_generations"]
    bad = bad or reader.empty or reader.partial or reader.errors
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
