"""Lexical index: start-up and incremental update, persisted vs today's full rebuild.

    python benchmarks/lexical_index.py [--sizes 1000 10000] [--repeats 5]

For each size, a corpus of that many chunks (JSQuAD and SQuAD paragraphs from
``../shared/datasets``, repeated with a marker when there are too few) is ingested
with the fake embedder at the real model's dimension (384) — vectors do not matter
here, the lexical index does — into an index cached under ``--cache``. Then, in
the same run:

- **today's rebuild**: read every chunk from the store and build the one-field
  BM25 (Sudachi words from the stored tokens) as `Retriever` did before the
  index was persisted (the old ``BM25Index``, kept below as `LegacyBM25`);
- **full rebuild (two fields)**: what a reader with no saved index does now;
- **start-up**: a new `LexicalStore` loading the saved index (memory-mapped base,
  small delta) and checking the store for newer runs;
- **add one document**: another ingest adds one document (3 chunks); the time of a
  reader that had loaded the index before to catch up (the runs' change log in the
  manifest names the chunks written, which are read by id; update; save what changed),
  checking that only those chunks were read; then the document's removal caught up the
  same way. The store's own reopen (an embedded Chroma client is reopened to see another
  writer's vectors, whatever the lexical index does) is timed apart.

Timings are medians of ``--repeats`` runs; ratios are taken in the same run.
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from scipy import sparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.embedders import get_embedder  # noqa: E402
from assistant.ingest import ingest  # noqa: E402
from assistant.lexical_store import LexicalStore  # noqa: E402
from assistant.settings import Settings, load_settings  # noqa: E402
from assistant.store import ChromaStore  # noqa: E402

NEW_DOC = (
    "---\ntitle: 追加された文書 {n}\n---\n\n# 追加された文書\n\n## 概要\n\n"
    + "この文書はベンチマークのために追加された。増分更新の速さを測る。" * 6
    + "\n\n## 詳細\n\n"
    + "索引は保存され、起動時に読み込まれ、変更された部分だけが更新される。" * 6
    + "\n\n## まとめ\n\n"
    + "全体を作り直さずに済むので、大きな索引でも更新は速い。" * 6
    + "\n"
)


class LegacyBM25:
    """The BM25 index as it was built on every change before (one field, from all chunks)."""

    def __init__(self, ids: Sequence[str], tokens: Sequence[Sequence[str]], k1: float = 1.2,
                 b: float = 0.75) -> None:  # fmt: skip
        self.ids = list(ids)
        self._rows = {chunk_id: i for i, chunk_id in enumerate(self.ids)}
        vocabulary: dict[str, int] = {}
        rows: list[int] = []
        cols: list[int] = []
        values: list[float] = []
        lengths = np.array([len(t) for t in tokens], dtype=np.float32)
        avg = float(lengths.mean()) if len(lengths) and lengths.mean() > 0 else 1.0
        df: Counter[int] = Counter()
        for row, doc in enumerate(tokens):
            norm = k1 * (1 - b + b * lengths[row] / avg)
            for term, tf in Counter(doc).items():
                col = vocabulary.setdefault(term, len(vocabulary))
                df[col] += 1
                rows.append(row)
                cols.append(col)
                values.append(tf * (k1 + 1) / (tf + norm))
        idf = np.zeros(len(vocabulary), dtype=np.float32)
        for col, freq in df.items():
            idf[col] = math.log(1 + (len(self.ids) - freq + 0.5) / (freq + 0.5))
        self.vocabulary, self.idf = vocabulary, idf
        matrix = sparse.csr_matrix((values, (rows, cols)), shape=(len(self.ids), len(vocabulary)))
        self._matrix_t = matrix.T.tocsr()


def corpus(shared: Path, target: int, out: Path) -> None:
    """Paragraph files (title in front matter), about one chunk each, ``target`` of them."""
    out.mkdir(parents=True, exist_ok=True)
    paragraphs: list[tuple[str, str]] = []
    for dataset in ("jsquad/valid-v1.3.json", "squad/dev-v1.1.reconstructed.json"):
        data = json.loads((shared / "datasets" / dataset).read_text(encoding="utf-8"))["data"]
        for article in data:
            for para in article["paragraphs"]:
                title, _, body = str(para["context"]).rpartition(" [SEP] ")
                paragraphs.append((title or str(article.get("title", "")), body[:450]))
    for n in range(target):
        title, body = paragraphs[n % len(paragraphs)]
        mark = f" ({n // len(paragraphs) + 1})" if n >= len(paragraphs) else ""
        text = f"---\ntitle: {json.dumps(title + mark, ensure_ascii=False)}\n---\n\n{body}{mark}\n"
        path = out / f"p{n:05d}.md"
        if not path.exists():
            path.write_text(text, encoding="utf-8")


def median_seconds(fn: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def bench(size: int, args: argparse.Namespace) -> dict[str, float]:
    work = args.cache / f"n{size}"
    corpus(args.shared, size, work / "corpus")
    settings = load_settings(data_dir=work / "data", embedder="fake:384", corpus=[work / "corpus"])
    embedder = get_embedder(settings.embedder)
    store = ChromaStore(settings)
    extra = work / "extra"
    shutil.rmtree(extra, ignore_errors=True)
    extra.mkdir()
    ingest([work / "corpus", extra], store, embedder, settings, prune=True)
    chunks = store.count()

    def legacy() -> None:
        all_chunks = store.all_chunks()
        LegacyBM25([c.id for c in all_chunks], [str(c.metadata["tokens"]).split(" ") for c in all_chunks])

    def rebuild() -> None:
        scratch = Path(tempfile.mkdtemp(dir=work))
        lexical = LexicalStore(store, _with(settings, data_dir=scratch, lexical_persist=False))
        lexical.sync()
        assert lexical.last_sync["how"] == "built"
        shutil.rmtree(scratch)

    def start() -> None:
        lexical = LexicalStore(ChromaStore(settings), settings)
        lexical.sync()
        assert lexical.last_sync["how"] == "loaded", lexical.last_sync

    figures = {"chunks": chunks, "legacy": median_seconds(legacy, args.repeats),
               "rebuild": median_seconds(rebuild, args.repeats), "start": median_seconds(start, args.repeats)}  # fmt: skip
    adds, removals, reopens = [], [], []
    for n in range(args.repeats):
        reader = LexicalStore(ChromaStore(settings), settings)
        reader.sync()
        extra.mkdir(exist_ok=True)
        (extra / "new.md").write_text(NEW_DOC.format(n=n), encoding="utf-8")
        added = ingest([work / "corpus", extra], ChromaStore(settings), embedder, settings, prune=True)
        seconds, reopen = _timed(reader, added.chunks_embedded)
        adds.append(seconds)
        reopens.append(reopen)
        (extra / "new.md").unlink()
        ingest([work / "corpus", extra], ChromaStore(settings), embedder, settings, prune=True)
        removals.append(_timed(reader, 0)[0])
    figures["add"] = statistics.median(adds)
    figures["remove"] = statistics.median(removals)
    figures["reopen"] = statistics.median(reopens)
    return figures


def _timed(reader: LexicalStore, expect_read: int | None = None) -> tuple[float, float]:
    """The store's reopen (another writer changed it: an embedded client is reopened to see the
    new vectors, whatever the lexical index does, and its first read opens the files again;
    a Chroma server needs none) and then the lexical catch-up, apart."""
    started = time.perf_counter()
    reader.store.refresh_if_changed()
    reader.store.get(reader.index.ids[:1])  # an embedded client reopened reads its files again
    reopen = time.perf_counter() - started
    started = time.perf_counter()
    reader.sync()
    seconds = time.perf_counter() - started
    assert reader.last_sync["how"] == "caught up", reader.last_sync
    if expect_read is not None:  # only the changed chunks were read
        assert reader.last_sync["read"] == expect_read, reader.last_sync
    return seconds, reopen


def _with(settings: Settings, **update: object) -> Settings:
    return settings.model_copy(update=update)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    parser.add_argument("--cache", type=Path, default=ROOT / ".cache" / "lexical-index")
    args = parser.parse_args(argv)
    if not (args.shared / "datasets" / "jsquad").exists():
        sys.stderr.write(f"{args.shared}/datasets is missing; pass --shared\n")
        return 2
    results = {size: bench(size, args) for size in args.sizes}
    ms = "{:.1f} ms".format
    header = [
        "chunks",
        "today rebuild",
        "rebuild 2 fields",
        "start-up",
        "today/start",
        "add 1 doc",
        "remove 1 doc",
        "store reopen (not lexical)",
    ]
    sys.stdout.write("| " + " | ".join(header) + " |\n|" + "---|" * len(header) + "\n")
    for r in results.values():
        cells = [str(int(r["chunks"])), ms(1000 * r["legacy"]), ms(1000 * r["rebuild"]), ms(1000 * r["start"]),
                 f"{r['legacy'] / r['start']:.1f}×", ms(1000 * r["add"]), ms(1000 * r["remove"]), ms(1000 * r["reopen"])]  # fmt: skip
        sys.stdout.write("| " + " | ".join(cells) + " |\n")
    if len(results) >= 2:
        small, large = results[min(results)], results[max(results)]
        sys.stdout.write(f"\nadd one document, {max(results)} vs {min(results)} chunks: "
                         f"{large['add'] / small['add']:.2f}× (goal ≤ 2×); start-up vs today's rebuild at "
                         f"{max(results)}: {large['legacy'] / large['start']:.1f}× faster (goal ≥ 10×)\n")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
