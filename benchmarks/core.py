"""Core benchmarks: ingest overhead, re-ingest, query latency at 1k/10k chunks, table row
views, cold start.

    python benchmarks/core.py [--docs 40] [--sizes 1000 10000] [--queries 50]

Every figure is printed beside a baseline measured in the same run, as a ratio, because
machines here are noisy. Uses ../shared/corpus/related and ../shared/datasets for
realistic text; exits with a message when they are absent.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.embedders import get_embedder  # noqa: E402
from assistant.evals.metrics import percentile  # noqa: E402
from assistant.loading import iter_files, load_file  # noqa: E402
from assistant.pipeline import Assistant  # noqa: E402
from assistant.settings import load_settings  # noqa: E402
from assistant.splitting import SplitterConfig, split_document  # noqa: E402

SHARED = ROOT.parent / "shared"
RELATED = SHARED / "corpus" / "related"
QUESTIONS = [
    "コンテナとは何ですか？", "仮想マシンの起動時間は？", "What is a pod?", "How does KubeVirt run VMs?",
    "Podmanとは？", "Kata Containersの仕組み", "What is a sidecar container?", "スケーラビリティとは",
]  # fmt: skip


def bench_ingest(n_docs: int) -> list[tuple[str, str, str]]:
    files = [p for p, _ in iter_files([RELATED], ["**/*.md"], [])][:n_docs]
    with tempfile.TemporaryDirectory() as tmp:
        docs_dir = Path(tmp) / "docs"
        docs_dir.mkdir()
        for i, path in enumerate(files):
            (docs_dir / f"{i:03d}-{path.name}").write_bytes(path.read_bytes())
        settings = load_settings(data_dir=Path(tmp) / "data")
        embedder = get_embedder(settings.embedder, settings.models_dir)
        config = SplitterConfig(settings.chunk_size, settings.chunk_overlap)
        texts = []
        for path, _ in iter_files([docs_dir], ["**/*.md"], []):
            try:
                texts += [c.embedding_text for c in split_document(load_file(path), config)]
            except Exception:  # the ingest skips the same unreadable files
                continue
        started = time.perf_counter()
        for i in range(0, len(texts), settings.embed_batch_size):
            embedder.embed_documents(texts[i : i + settings.embed_batch_size])
        alone = time.perf_counter() - started
        bot = Assistant(settings, embedder)
        full = bot.ingest([docs_dir])
        again = bot.ingest([docs_dir])
    return [
        (f"embedder alone, {len(texts)} chunks", f"{alone:.1f} s", "1.00 (baseline)"),
        ("full ingest, same chunks", f"{full.seconds:.1f} s", f"{full.seconds / alone:.2f}  (goal < 1.20)"),
        (
            "re-ingest, nothing changed",
            f"{again.seconds:.2f} s",
            f"{again.seconds / full.seconds:.3f}  (goal < 0.05)",
        ),
    ]


def synthetic_corpus(target: int, out: Path) -> None:
    """Related docs plus JSQuAD/SQuAD paragraphs as files, enough for ``target`` chunks."""
    n = 0
    for path, _ in iter_files([RELATED], ["**/*.md"], []):
        (out / f"r{n:05d}.md").write_bytes(path.read_bytes())
        n += 1
    for dataset in ("jsquad/valid-v1.3.json", "squad/dev-v1.1.reconstructed.json"):
        data = json.loads((SHARED / "datasets" / dataset).read_text(encoding="utf-8"))["data"]
        for article in data:
            for para in article["paragraphs"]:
                (out / f"p{n:05d}.txt").write_text(para["context"], encoding="utf-8")
                n += 1


def bench_queries(sizes: list[int], n_queries: int) -> list[tuple[str, str, str]]:
    rows = []
    real = get_embedder(load_settings().embedder)
    started = time.perf_counter()
    for q in QUESTIONS * 3:
        real.embed_query(q)
    embed_ms = (time.perf_counter() - started) / (len(QUESTIONS) * 3) * 1000
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "src"
        src.mkdir()
        synthetic_corpus(max(sizes), src)
        files = sorted(src.iterdir())
        for size in sizes:
            # Vectors from the fake embedder at the real dimension: vector search costs the
            # same, and 10k chunks through the real model would take half an hour here.
            settings = load_settings(data_dir=Path(tmp) / f"d{size}", embedder="fake:384")
            bot = Assistant(settings)
            chosen: list[Path] = []
            for path in files:
                chosen.append(path)
                if len(chosen) % 50 == 0:
                    bot.ingest(chosen[-50:])
                    if bot.store.count() >= size:
                        break
            chunks = bot.store.count()
            retrieval, full = time_queries(bot, [QUESTIONS[i % len(QUESTIONS)] for i in range(n_queries)])
            floor = brute_force_ms(chunks, n_queries)
            p50 = statistics.median(retrieval)
            rows.append((f"numpy brute-force top-k @ {chunks} (baseline)", f"{floor:.2f} ms", "1.00"))
            rows.append(
                (
                    f"hybrid retrieval @ {chunks} chunks, p50 / p95",
                    f"{p50:.1f} / {percentile(retrieval, 95):.1f} ms",
                    f"{p50 / floor:.1f} x baseline  (goal p50 < 50 ms)",
                )
            )
            rows.append(
                (
                    f"full ask @ {chunks} chunks, p50 / p95",
                    f"{statistics.median(full):.1f} / {percentile(full, 95):.1f} ms",
                    f"{statistics.median(full) / floor:.1f} x baseline  (fake query embedding)",
                )
            )
    rows.append(("query embedding, default embedder", f"{embed_ms:.1f} ms", "add to the figures above"))
    rows += bench_default_ask()
    return rows


def time_queries(bot: Assistant, questions: list[str]) -> tuple[list[float], list[float]]:
    """Milliseconds per question for retrieval alone and for a full ask, after one warm-up."""
    bot.ask(questions[0])  # warm: loads the model and builds the BM25 index once
    retrieval, full = [], []
    for question in questions:
        started = time.perf_counter()
        bot.retriever.search(question)
        retrieval.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        bot.ask(question)
        full.append((time.perf_counter() - started) * 1000)
    return retrieval, full


def brute_force_ms(n: int, repeats: int) -> float:
    """The floor: exact cosine top-k over n random 384-d vectors in numpy."""
    import numpy as np

    rng = np.random.default_rng(0)
    matrix = rng.standard_normal((n, 384)).astype(np.float32)
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    started = time.perf_counter()
    for _ in range(repeats):
        scores = matrix @ matrix[0]
        top = np.argpartition(-scores, 30)[:30]
        top[np.argsort(-scores[top])]
    return (time.perf_counter() - started) / repeats * 1000


def bench_default_ask() -> list[tuple[str, str, str]]:
    """The default pipeline (real embedder) end to end on the seed corpus."""
    with tempfile.TemporaryDirectory() as tmp:
        bot = Assistant(load_settings(data_dir=Path(tmp), corpus=[ROOT / "corpus"]))
        bot.ingest()
        retrieval, full = time_queries(bot, QUESTIONS * 2)
    r50, f50 = statistics.median(retrieval), statistics.median(full)
    return [
        (
            "default retrieval, seed corpus, p50 / p95",
            f"{r50:.0f} / {percentile(retrieval, 95):.0f} ms",
            "1.00 (baseline)",
        ),
        (
            "default full ask, seed corpus, p50 / p95",
            f"{f50:.0f} / {percentile(full, 95):.0f} ms",
            f"{f50 / r50:.2f}",
        ),
    ]


def bench_row_views() -> list[tuple[str, str, str]]:
    """Retrieval over ./corpus (real embedder) without table row views, then with them: the
    first pass embeds the rows of every table it meets, the second finds them cached. The
    browser, Slack and the service embed them all at warm-up (`Assistant.warm_up`), timed last."""
    with tempfile.TemporaryDirectory() as tmp:
        bot = Assistant(load_settings(data_dir=Path(tmp), corpus=[ROOT / "corpus"], table_row_views=False))
        bot.ingest()
        off, _ = time_queries(bot, QUESTIONS * 2)
        bot.settings = bot.retriever.settings = bot.settings.model_copy(update={"table_row_views": True})
        passes = []
        for _ in range(2):
            started = time.perf_counter()
            times = []
            for question in QUESTIONS:
                bot.retriever.search(question)
                times.append((time.perf_counter() - started) * 1000)
                started = time.perf_counter()
            passes.append(times)
        fresh = Assistant(bot.settings)
        fresh.retriever.lexical_index()
        started = time.perf_counter()
        views = fresh.retriever.warm_row_views()
        warming = time.perf_counter() - started
    base = statistics.median(off)
    cold, warm = (statistics.median(p) for p in passes)
    return [
        ("retrieval, ./corpus, no row views, p50 (baseline)", f"{base:.0f} ms", "1.00"),
        ("retrieval, row views, first pass (rows embedded), p50", f"{cold:.0f} ms", f"{cold / base:.2f}"),
        ("retrieval, row views, cached, p50", f"{warm:.0f} ms", f"{warm / base:.2f}"),
        (f"warm-up: embed all {views} row views of ./corpus", f"{warming:.1f} s", "–"),
    ]


def bench_cold_start() -> list[tuple[str, str, str]]:
    with tempfile.TemporaryDirectory() as tmp:
        env_cmd = [sys.executable, "-m", "assistant.cli", "--data-dir", tmp]
        subprocess.run([*env_cmd, "ingest", str(ROOT / "corpus")], check=True, capture_output=True)

        def timed(cmd: list[str]) -> float:
            t = time.perf_counter()
            subprocess.run(cmd, check=True, capture_output=True)
            return time.perf_counter() - t

        base = min(timed([sys.executable, "-c", "import chromadb"]) for _ in range(3))
        ask = min(timed([*env_cmd, "ask", "コンテナの起動速度は？"]) for _ in range(3))
    return [
        ("python -c 'import chromadb' (baseline)", f"{base:.2f} s", "1.00"),
        ("cold `assistant ask`", f"{ask:.2f} s", f"{ask / base:.2f}"),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--docs", type=int, default=40, help="related documents for the ingest benchmark")
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--queries", type=int, default=50)
    args = parser.parse_args()
    if not RELATED.exists():
        print(f"{RELATED} is absent; the benchmarks need ../shared.", file=sys.stderr)
        return 1
    rows = (
        bench_ingest(args.docs)
        + bench_queries(args.sizes, args.queries)
        + bench_row_views()
        + bench_cold_start()
    )
    width = max(len(r[0]) for r in rows)
    print(f"\n{'measure'.ljust(width)}  {'value':>22}  ratio")
    for name, value, ratio in rows:
        print(f"{name.ljust(width)}  {value:>22}  {ratio}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
