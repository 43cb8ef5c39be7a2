"""The service against embedded use: cold `assistant ask` through `assistant serve` vs
embedded, and 20 concurrent clients on /v1/ask vs one client.

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


def cli(args: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "assistant.cli", *args], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=1200)  # fmt: skip
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"assistant {' '.join(args)} failed: {proc.stderr}")
    return elapsed


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
        remote = (
            [cli(["ask", question], {**env, "ASSISTANT_SERVER_URL": url}) for _ in range(args.runs)]
            if cold
            else []
        )
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
        print_cold(embedded, remote, help_s, args.runs)
    print(f"\nservice start → ready {ready_s:.1f} s, → first answer {first_answer_s:.1f} s\n")
    print(
        f"## /v1/ask under load ({args.clients} concurrent clients, {len(many_lat)} requests; caches warmed first)\n"
    )
    print("| clients | throughput (req/s) | p50 (s) | p95 (s) |")
    print("| --- | --- | --- | --- |")
    print(f"| 1 | {one_tp:.2f} | {med(one_lat):.3f} | {percentile(one_lat, 95):.3f} |")
    print(f"| {args.clients} | {many_tp:.2f} | {med(many_lat):.3f} | {percentile(many_lat, 95):.3f} |")
    print(f"\nthroughput ratio {args.clients} clients / 1 client: {many_tp / one_tp:.2f}; no request failed")


def print_cold(embedded: list[float], remote: list[float], help_s: list[float], runs: int) -> None:
    med = statistics.median
    print("\n## Cold `assistant ask` (one question, a fresh process each run; median of", runs, "runs)\n")
    print("| mode | seconds | ratio to embedded |")
    print("| --- | --- | --- |")
    print(f"| embedded (loads the model) | {med(embedded):.2f} | 1.00 |")
    print(f"| through the service (`--server`) | {med(remote):.2f} | {med(remote) / med(embedded):.2f} |")
    print(
        f"| `assistant --help` (floor: Python + settings) | {med(help_s):.2f} | {med(help_s) / med(embedded):.2f} |"
    )


if __name__ == "__main__":
    main()
