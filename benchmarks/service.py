"""The service against embedded use: cold `assistant ask` through `assistant serve` vs
embedded, and 20 concurrent clients on /v1/ask vs one client.

The cold table also times `assistant --help`, `assistant info` through the service and the
bare interpreter (`python -c pass`, the floor), and lists the heavy packages (torch,
sentence-transformers, chromadb) each of those processes imported (`python -X importtime`).

    python benchmarks/service.py [--runs 3] [--clients 20] [--requests 100] [--embedder NAME]

Uses the default embedder over ./corpus (built once into .cache/bench-service). Only one
process holds the real model at a time: the embedded runs come first, then the service.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.evals.metrics import percentile  # noqa: E402  (light: no model is loaded)

QUESTIONS = [
    "コンテナとVMの起動速度の違いは？", "What does a container share with the host?",
    "仮想マシンのオーバーヘッドは？", "Why do VMs isolate better than containers?",
    "コンテナのセキュリティ上の注意点は？", "When should I choose a VM?",
]  # fmt: skip


HEAVY = ("torch", "sentence_transformers", "transformers", "chromadb")


def cli(args: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "assistant.cli", *args], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=1200)  # fmt: skip
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"assistant {' '.join(args)} failed: {proc.stderr}")
    return elapsed


def floor(env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], env=env, cwd=ROOT, check=True, timeout=60)
    return time.perf_counter() - started


def heavy_imports(args: list[str], env: dict[str, str]) -> str:
    """The heavy packages `assistant ARGS` imports (read from ``-X importtime``; not timed)."""
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "assistant.cli", *args], env=env,
                          cwd=ROOT, capture_output=True, text=True, timeout=1200)  # fmt: skip
    names = {line.rsplit("|", 1)[1].strip().split(".")[0] for line in proc.stderr.splitlines()
             if line.startswith("import time:") and "|" in line}  # fmt: skip
    return ", ".join(sorted(names & set(HEAVY))) or "none"


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def load(url: str, clients: int, requests: int) -> tuple[float, list[float]]:
    """``requests`` questions spread over ``clients`` threads; returns (seconds, latencies)."""
    latencies: list[float] = []
    lock = threading.Lock()
    counter = iter(range(requests))

    def worker() -> None:
        with httpx.Client(base_url=url, timeout=300) as http:
            while True:
                with lock:
                    i = next(counter, None)
                if i is None:
                    return
                started = time.perf_counter()
                response = http.post("/v1/ask", json={"question": QUESTIONS[i % len(QUESTIONS)]})
                response.raise_for_status()
                with lock:
                    latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - started, latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--embedder", default=None, help="default: the settings' default embedder")
    parser.add_argument("--load-only", action="store_true", help="skip the cold CLI runs")
    args = parser.parse_args()

    data = ROOT / ".cache" / "bench-service"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "ASSISTANT_DATA_DIR": str(data)}
    env.pop("ASSISTANT_SERVER_URL", None)
    if args.embedder:
        env["ASSISTANT_EMBEDDER"] = args.embedder
    cli(["ingest", str(ROOT / "corpus")], env)

    question = QUESTIONS[0]
    cold = not args.load_only
    embedded = [cli(["ask", question], env) for _ in range(args.runs)] if cold else []
    help_s = [cli(["--help"], env) for _ in range(args.runs)] if cold else []
    floor_s = [floor(env) for _ in range(args.runs)] if cold else []
    heavy = {"embedded": heavy_imports(["ask", question], env), "help": heavy_imports(["--help"], env)}

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = (data / "serve.log").open("w")
    started = time.perf_counter()
    server = subprocess.Popen([sys.executable, "-m", "assistant.cli", "serve", "--port", str(port)],
                              env={**env, "ASSISTANT_SERVER_RATE_LIMIT": "0"}, cwd=ROOT, stdout=log,
                              stderr=subprocess.STDOUT)  # fmt: skip
    try:
        while True:
            try:
                if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if server.poll() is not None:
                raise SystemExit((data / "serve.log").read_text())
            time.sleep(0.2)
        ready_s = time.perf_counter() - started
        httpx.post(f"{url}/v1/ask", json={"question": question}, timeout=300).raise_for_status()
        first_answer_s = time.perf_counter() - started
        through = {**env, "ASSISTANT_SERVER_URL": url}
        remote = [cli(["ask", question], through) for _ in range(args.runs)] if cold else []
        info_s = [cli(["info"], through) for _ in range(args.runs)] if cold else []
        if cold:
            heavy["remote"] = heavy_imports(["ask", question], through)
            heavy["info"] = heavy_imports(["info"], through)
        load(url, 1, len(QUESTIONS))  # every question once: caches warm for both measurements
        one_s, one_lat = load(url, 1, max(6, args.requests // 5))
        many_s, many_lat = load(url, args.clients, args.requests)
    finally:
        server.terminate()
        server.wait(30)
        log.close()

    one_tp, many_tp = len(one_lat) / one_s, len(many_lat) / many_s
    med = statistics.median
    if cold:
        print_cold({"embedded": embedded, "remote": remote, "info": info_s, "help": help_s, "floor": floor_s},
                   heavy, args.runs)  # fmt: skip
    print(f"\nservice start → ready {ready_s:.1f} s, → first answer {first_answer_s:.1f} s\n")
    print(
        f"## /v1/ask under load ({args.clients} concurrent clients, {len(many_lat)} requests; caches warmed first)\n"
    )
    print("| clients | throughput (req/s) | p50 (s) | p95 (s) |")
    print("| --- | --- | --- | --- |")
    print(f"| 1 | {one_tp:.2f} | {med(one_lat):.3f} | {percentile(one_lat, 95):.3f} |")
    print(f"| {args.clients} | {many_tp:.2f} | {med(many_lat):.3f} | {percentile(many_lat, 95):.3f} |")
    print(f"\nthroughput ratio {args.clients} clients / 1 client: {many_tp / one_tp:.2f}; no request failed")


def print_cold(seconds: dict[str, list[float]], heavy: dict[str, str], runs: int) -> None:
    med = {name: statistics.median(values) for name, values in seconds.items()}
    rows = [
        ("embedded", "`assistant ask` embedded (loads the model)"),
        ("remote", "`assistant ask` through the service (`--server`)"),
        ("info", "`assistant info` through the service"),
        ("help", "`assistant --help`"),
        ("floor", "`python -c pass` (the interpreter alone)"),
    ]
    print("\n## Cold start (a fresh process each run; median of", runs, "runs)\n")
    print("| command | seconds | ratio to embedded | ratio to the floor | heavy packages imported |")
    print("| --- | --- | --- | --- | --- |")
    for key, label in rows:
        print(f"| {label} | {med[key]:.2f} | {med[key] / med['embedded']:.2f} | {med[key] / med['floor']:.1f} "
              f"| {heavy.get(key, '—')} |")  # fmt: skip


if __name__ == "__main__":
    main()
