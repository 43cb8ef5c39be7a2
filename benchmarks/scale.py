"""The index at scale: the real embedder at 1k/3k/10k chunks of mixed Japanese/English text,
fake vectors of the real dimension at 10k/30k/100k, and the growth curve extrapolated to 1M.

    python benchmarks/scale.py --json results.jsonl          # everything (defaults below)
    python benchmarks/scale.py --real-increment 400 --sample 96 --queries 20   # a loaded machine
    python benchmarks/scale.py --report results.jsonl        # the tables again, from saved rows

Defaults: ``--sizes 1000 3000 10000`` (real model), ``--fake-sizes 10000 30000 100000``,
``--queries 30``, ``--sample 256``. Text: ../shared/corpus/related (Markdown) and JSQuAD and
SQuAD paragraphs four to a file, shuffled together (seeded) so every size mixes both
languages (``--shared`` when ../shared is elsewhere, e.g. from a worktree).

Every phase runs in a child process (one process with the model at a time) that reports
JSON: ingest chunks/s and its ratio to the embedder alone on a sample of the same chunks
(measured in the same child, before and after the ingest, averaged: the load drifts), peak
memory (max RSS), index size on disk, process start to first answer, lexical index rebuild,
load (saved, memory-mapped) and catch-up after one added document, retrieval and ask
p50/p95, and the load average. ``--real-increment N``: at each real size only the last N
chunks are embedded by the model, the ones before are filled (real text and tokens, vectors
of the real dimension that are not the model's) — for a machine where the model cannot
embed 10k chunks in the time there is.

Duration (2 cores at load average 8-13, 2026-11-30): the fake series about 30 min; the
real series with ``--real-increment 400 --sample 96`` about 45 min, since the model managed
only 1-2 chunks/s there. Without ``--real-increment`` the real series embeds 10k chunks:
time it from the "embedder alone" figure of a first run (10k / chunks per second).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.evals.metrics import percentile  # noqa: E402  (light: no model is loaded)

SHARED = ROOT.parent / "shared"
DATASETS = ("jsquad/valid-v1.3.json", "squad/dev-v1.1.reconstructed.json")
QUESTIONS = [
    "コンテナとは何ですか？", "仮想マシンの起動時間は？", "What is a pod?", "How does KubeVirt run VMs?",
    "Podmanとは？", "Kata Containersの仕組み", "Which river flows through the city?", "日本で一番高い山は？",
]  # fmt: skip


def max_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --- the source files ---------------------------------------------------------------------


def write_sources(shared: Path, out: Path, copies: int) -> None:
    """Related docs and paragraphs four to a file, shuffled together (seeded) so that every size
    mixes Japanese and English; ``copies`` > 1 repeats the paragraphs under distinct headings."""
    import random

    sys.path.insert(0, str(ROOT))
    from assistant.loading import iter_files

    files: list[tuple[str, bytes]] = []
    for path, _ in iter_files([shared / "corpus" / "related"], ["**/*.md"], []):
        files.append(("r", path.read_bytes()))
    paragraphs = []
    for dataset in DATASETS:
        data = json.loads((shared / "datasets" / dataset).read_text(encoding="utf-8"))["data"]
        paragraphs += [(a["title"], p["context"]) for a in data for p in a["paragraphs"]]
    for copy in range(copies):
        for i in range(0, len(paragraphs), 4):  # four paragraphs to a file, like short articles
            group = paragraphs[i : i + 4]
            body = "\n\n".join(text for _, text in group)
            files.append(("p", f"# {group[0][0]} ({copy}-{i})\n\n{body}\n".encode()))
    random.Random(16).shuffle(files)
    for n, (kind, data) in enumerate(files):
        (out / f"{n:06d}-{kind}.md").write_bytes(data)


# --- child phases ---------------------------------------------------------------------------


def phase_ingest(args: argparse.Namespace) -> dict[str, object]:
    sys.path.insert(0, str(ROOT))
    from assistant.errors import AssistantError
    from assistant.loading import iter_files, load_file
    from assistant.pipeline import Assistant
    from assistant.settings import load_settings
    from assistant.splitting import SplitterConfig, split_document

    settings = load_settings(data_dir=Path(args.data), embedder=args.embedder)
    bot = Assistant(settings)
    files = sorted(Path(args.src).iterdir())
    state = Path(args.data) / "bench-files-done"
    done = int(state.read_text()) if state.exists() else 0
    result: dict[str, object] = {}
    if args.sample:  # the embedder alone on a sample of the chunks about to be ingested
        config = SplitterConfig(settings.chunk_size, settings.chunk_overlap)
        texts: list[str] = []
        for path, _ in iter_files(files[done : done + 200], ["**/*.md"], []):
            try:
                texts += [c.embedding_text for c in split_document(load_file(path), config)]
            except AssistantError:  # the ingest skips unreadable files too
                continue
        texts = texts[: args.sample]
        bot.embedder.embed_documents(texts[:8])  # load the model outside the timing

        def embedder_alone() -> float:
            started = time.perf_counter()
            for i in range(0, len(texts), settings.embed_batch_size):
                bot.embedder.embed_documents(texts[i : i + settings.embed_batch_size])
            return len(texts) / (time.perf_counter() - started)

        before = embedder_alone()
    # The files that bring the index to about ``target`` chunks, ingested in one run (as a user
    # adds a folder): counted with the splitter first, which is cheap beside embedding.
    count = bot.store.count() if bot.store.manifest() else 0
    config = SplitterConfig(settings.chunk_size, settings.chunk_overlap)
    end = done
    while count < args.target and end < len(files):
        with contextlib.suppress(AssistantError):  # the ingest skips unreadable files too
            count += len(split_document(load_file(files[end]), config))
        end += 1
    load = os.getloadavg()[0]
    report = bot.ingest(files[done:end])
    state.write_text(str(end))
    if args.sample:  # before and after the ingest: the shared machine's load drifts
        result.update(embedder_alone_cps=(before + embedder_alone()) / 2, embedder_alone_before_cps=before)
    result.update(chunks=report.chunks_total, embedded=report.chunks_embedded, ingest_s=report.seconds,
                  ingest_cps=report.chunks_embedded / report.seconds if report.seconds else 0.0,
                  max_rss_mb=max_rss_mb(), load_ingest=(load + os.getloadavg()[0]) / 2)  # fmt: skip
    return result


def phase_fill(args: argparse.Namespace) -> dict[str, object]:
    """Fake vectors of the real dimension straight into the store, up to ``target`` chunks: the
    index side (store, lexical index, search) at sizes the model cannot embed here in time.
    Texts and tokens come from real chunks, tokenized once and repeated with a distinct term."""
    sys.path.insert(0, str(ROOT))
    import numpy as np

    from assistant.embedders import get_embedder
    from assistant.errors import AssistantError
    from assistant.ingest import build_manifest
    from assistant.lexical import default_tokenizer
    from assistant.loading import load_file
    from assistant.pipeline import Assistant
    from assistant.settings import load_settings
    from assistant.splitting import SplitterConfig, split_document
    from assistant.store import StoredChunk

    settings = load_settings(data_dir=Path(args.data), embedder=args.embedder)
    bot = Assistant(settings)
    config = SplitterConfig(settings.chunk_size, settings.chunk_overlap)
    embedder = get_embedder(args.embedder)
    if bot.store.manifest() is None:
        bot.store.write_manifest(build_manifest(embedder, config))
    base: list[tuple[str, list[str]]] = []
    tokenizer = default_tokenizer()
    for path in sorted(Path(args.src).iterdir()):
        try:
            document = load_file(path)
        except AssistantError:  # the ingest skips unreadable files too
            continue
        for chunk in split_document(document, config):
            base.append((chunk.text, tokenizer.tokenize(chunk.text)))
        if len(base) >= 2000:
            break
    rng = np.random.default_rng(0)
    count = bot.store.count()
    seq = int((bot.store.manifest() or {}).get("seq", 0)) + 1  # a run of its own, as an ingest
    started = time.perf_counter()
    while count < args.target:
        n = min(1000, args.target - count)
        chunks = []
        for i in range(count, count + n):
            text, tokens = base[i % len(base)]
            copy = f"copy{i // len(base)}"
            meta = {"source": f"/bench/{i // 20:06d}.md", "title": f"doc {i // 20}", "heading": "",
                    "ordinal": i % 20, "file_hash": f"h{i // 20}", "n_chunks": 20,
                    "tokens": " ".join([*tokens, copy]), "seq": seq}  # fmt: skip
            chunks.append(StoredChunk(f"bench-{i:08d}", f"{text} ({copy})", meta))
        vectors = rng.standard_normal((n, embedder.dimension)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        bot.store.upsert(chunks, vectors)
        count += n
    bot.store.write_manifest(
        {**build_manifest(embedder, config), "seq": seq}
    )  # a new version: readers refresh
    seconds = time.perf_counter() - started
    # What an ingest does at its end: the lexical index from every chunk, saved beside the store
    # (the full rebuild that a reader without a saved index would do).
    from assistant.lexical_store import LexicalStore

    started = time.perf_counter()
    lexical = LexicalStore(bot.store, settings.model_copy(update={"lexical_persist": False}))
    lexical.sync()
    rebuild = time.perf_counter() - started
    lexical.settings = settings
    lexical.save()
    return {"chunks": count, "fill_s": seconds, "ingest_cps": 0.0, "lexical_rebuild_s": rebuild,
            "max_rss_mb": max_rss_mb(), "load_ingest": os.getloadavg()[0]}  # fmt: skip


def phase_query(args: argparse.Namespace) -> dict[str, object]:
    sys.path.insert(0, str(ROOT))
    from assistant.pipeline import Assistant
    from assistant.settings import load_settings

    settings = load_settings(data_dir=Path(args.data), embedder=args.embedder)
    bot = Assistant(settings)
    started = time.perf_counter()
    bot.store.manifest()  # opens the store
    bot.retriever.lexical_index()
    first_read = time.perf_counter() - started  # opening the store, then the lexical index
    how = bot.retriever.lexical.last_sync.get("how")  # "loaded" from disk, or "built" if there was none
    lexical_load = float(bot.retriever.lexical.last_sync["seconds"])
    bot.ask(QUESTIONS[0])
    first_answer_at = time.time()
    questions = [QUESTIONS[i % len(QUESTIONS)] for i in range(args.queries)]
    retrieval, ask = [], []
    for q in questions:
        t = time.perf_counter()
        bot.retriever.search(q)
        retrieval.append(time.perf_counter() - t)
    for q in questions:
        t = time.perf_counter()
        bot.ask(q)
        ask.append(time.perf_counter() - t)
    updates, reopen_and_update = [], []
    with tempfile.TemporaryDirectory() as tmp:  # one more document, then the lexical index again (x3)
        for n in range(3):
            doc = Path(tmp) / f"added-{time.time_ns()}.md"
            doc.write_text(
                f"# Added later {n}\n\nA note written during the benchmark about lantern ferries.\n"
            )
            bot.ingest([doc])
            t = time.perf_counter()
            bot.retriever.lexical_index()  # reopens the store (new vectors), then catches up
            reopen_and_update.append(time.perf_counter() - t)
            updates.append(float(bot.retriever.lexical.last_sync["seconds"]))
            assert bot.retriever.lexical.last_sync.get("how") == "caught up", bot.retriever.lexical.last_sync
    lexical_update = statistics.median(updates)
    store_and_update = statistics.median(reopen_and_update)
    return {
        "first_answer_at": first_answer_at, "lexical_load_s": lexical_load, "lexical_update_s": lexical_update,
        "retrieval_p50": statistics.median(retrieval), "retrieval_p95": percentile(retrieval, 95),
        "ask_p50": statistics.median(ask), "ask_p95": percentile(ask, 95), "max_rss_mb": max_rss_mb(),
        "lexical_how": how, "load": os.getloadavg()[0], "first_read_s": first_read,
        "store_and_lexical_update_s": store_and_update,
    }  # fmt: skip


# --- the parent -------------------------------------------------------------------------------


def child(phase: str, **kw: object) -> tuple[dict[str, object], float]:
    argv = [sys.executable, __file__, "--phase", phase]
    for key, value in kw.items():
        argv += [f"--{key}", str(value)]
    started_at = time.time()
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=3600, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})  # fmt: skip
    if proc.returncode != 0:
        raise SystemExit(f"phase {phase} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1]), started_at


def disk_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1e6


def run_series(label: str, embedder: str, sizes: list[int], src: Path, data: Path, queries: int,
               sample: int, fill: bool = False, out: Path | None = None,
               increment: int = 0) -> list[dict[str, object]]:  # fmt: skip
    """One index grown through ``sizes``. ``fill``: fake vectors only. ``increment``: the real
    embedder ingests the last ``increment`` chunks of each size and the chunks before them are
    filled (real text, vectors of the real dimension but not the model's), so that ingest,
    start-up and queries are measured with the model at an index size it could not embed here
    in time."""
    rows = []
    for size in sizes:
        pre: dict[str, object] = {}
        if fill:
            ingest, _ = child("fill", data=data, src=src, target=size, embedder=embedder)
        else:
            if increment and size > increment:
                filled, _ = child("fill", data=data, src=src, target=size - increment, embedder=embedder)
                pre = {"filled": filled["chunks"], "fill_lexical_rebuild_s": filled["lexical_rebuild_s"]}
            ingest, _ = child("ingest", data=data, src=src, target=size, embedder=embedder, sample=sample)
        query, started_at = child("query", data=data, embedder=embedder, queries=queries)
        row = {"series": label, "size": size, "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
               **pre, **ingest, **{f"q_{k}": v for k, v in query.items()},
               "first_answer_s": float(query["first_answer_at"]) - started_at, "disk_mb": disk_mb(data)}  # fmt: skip
        rows.append(row)
        print(json.dumps(row), file=sys.stderr, flush=True)
        if out:
            with out.open("a", encoding="utf-8") as f:
                f.write(json.dumps(row) + "\n")
    return rows


def table(rows: list[dict[str, object]]) -> None:
    print("| series | chunks | ingest chunks/s | embedder alone chunks/s | ratio | ingest peak MB | disk MB "
          "| start → first answer s | lexical rebuild s | lexical load s | lexical update ms "
          "| retrieval p50/p95 ms | ask p50/p95 ms | query peak MB | load avg (ingest/query) |")  # fmt: skip
    print("| --- " * 15 + "|")
    for r in rows:
        alone = r.get("embedder_alone_cps")
        ratio = f"{float(r['ingest_cps']) / float(alone):.2f}" if alone else ""
        speed = "(filled, no model)" if "fill_s" in r else f"{float(r['ingest_cps']):.3g}"
        rebuild = f"{float(r['lexical_rebuild_s']):.2f}" if "lexical_rebuild_s" in r else ""
        print(
            f"| {r['series']} | {r['chunks']} | {speed} | {f'{float(alone):.3g}' if alone else ''} | {ratio} "
            f"| {float(r['max_rss_mb']):.0f} | {float(r['disk_mb']):.0f} | {float(r['first_answer_s']):.1f} "
            f"| {rebuild} | {float(r['q_lexical_load_s']):.2f} ({r.get('q_lexical_how')}) "
            f"| {float(r['q_lexical_update_s']) * 1000:.0f} "
            f"| {float(r['q_retrieval_p50']) * 1000:.0f}/{float(r['q_retrieval_p95']) * 1000:.0f} "
            f"| {float(r['q_ask_p50']) * 1000:.0f}/{float(r['q_ask_p95']) * 1000:.0f} | {float(r['q_max_rss_mb']):.0f} "
            f"| {float(r.get('load_ingest', 0)):.1f}/{float(r.get('q_load', 0)):.1f} |"
        )


def growth(rows: list[dict[str, object]]) -> None:
    """Least-squares lines through (chunks, value), extrapolated to 1M chunks."""
    import numpy as np

    if len(rows) < 2:
        return
    n = np.array([float(r["chunks"]) for r in rows])
    print("\n| per chunk (fit over the fake series) | slope | at 1M chunks (extrapolated) |")
    print("| --- | --- | --- |")
    for key, label, scale in (("disk_mb", "disk MB", 1.0), ("q_max_rss_mb", "query process MB", 1.0),
                              ("q_lexical_load_s", "lexical load s", 1.0),
                              ("lexical_rebuild_s", "lexical rebuild s", 1.0),
                              ("q_lexical_update_s", "lexical update ms", 1000.0),
                              ("q_retrieval_p50", "retrieval p50 ms", 1000.0)):  # fmt: skip
        y = np.array([float(r[key]) * scale for r in rows])
        slope, intercept = np.polyfit(n, y, 1)
        print(f"| {label} | {slope * 1000:.4g} per 1k | {slope * 1e6 + intercept:.4g} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--phase", choices=["ingest", "fill", "query"])
    parser.add_argument("--data")
    parser.add_argument("--src")
    parser.add_argument("--target", type=int)
    parser.add_argument("--embedder", default="sentence-transformers:multilingual-e5-small")
    parser.add_argument("--sample", type=int, default=256)
    parser.add_argument("--queries", type=int, default=30)
    parser.add_argument("--sizes", type=int, nargs="*", default=[1000, 3000, 10000])
    parser.add_argument("--shared", type=Path, default=SHARED, help="the shared data (default ../shared)")
    parser.add_argument("--fake-sizes", type=int, nargs="*", default=[10000, 30000, 100000])
    parser.add_argument(
        "--real-increment",
        type=int,
        default=0,
        help="embed only the last N chunks of each real size with the model; fill the rest",
    )
    parser.add_argument("--json", type=Path, help="append each row to this JSON-lines file as it is measured")
    parser.add_argument(
        "--report", type=Path, nargs="*", help="only print the tables of these JSON-lines files"
    )
    args = parser.parse_args()
    if args.report:
        saved = [json.loads(line) for path in args.report for line in path.read_text().splitlines() if line]
        table(saved)
        growth([r for r in saved if "fill_s" in r])
        return
    if args.phase:
        phases = {"ingest": phase_ingest, "fill": phase_fill, "query": phase_query}
        result = phases[args.phase](args)
        print(json.dumps(result))
        return
    if not (args.shared / "corpus" / "related").is_dir() or not (args.shared / "datasets").is_dir():
        raise SystemExit(f"needs {args.shared}/corpus/related and {args.shared}/datasets; they are absent")
    rows: list[dict[str, object]] = []
    (ROOT / ".cache").mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(dir=ROOT / ".cache") as tmp:
        src_real = Path(tmp) / "src-real"
        src_real.mkdir()
        write_sources(args.shared, src_real, 1)
        if args.sizes:
            rows += run_series("real e5-small", args.embedder, args.sizes, src_real, Path(tmp) / "real",
                               args.queries, args.sample, out=args.json, increment=args.real_increment)  # fmt: skip
        fake_rows: list[dict[str, object]] = []
        if args.fake_sizes:
            fake_rows = run_series("fake vectors, 384-d", "fake:384", args.fake_sizes, src_real,
                                   Path(tmp) / "fake", args.queries, 0, fill=True, out=args.json)  # fmt: skip
    print()
    table(rows + fake_rows)
    growth(fake_rows)


if __name__ == "__main__":
    main()
