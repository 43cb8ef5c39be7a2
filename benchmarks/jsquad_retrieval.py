"""Retrieval on JSQuAD valid, split into a development and a test half, for tuning fusion.

    python benchmarks/jsquad_retrieval.py                 # tune on dev, report dev/test/full
    python benchmarks/jsquad_retrieval.py --baseline-only # today's settings only

Articles are split by a hash of their title (``sha256(title)[0] % 2``: even → dev,
odd → test), so every paragraph of an article falls in the same half. Each
paragraph goes through the product's own path (Markdown with the title in front
matter → `load_bytes` → `split_document` → `contextual_text`), is embedded with
the configured embedder (vectors cached under ``--cache``, so reruns iterate on
fusion and lexical settings without the model) and indexed by
`assistant.lexical.LexicalIndex`; candidates from each list are fused by
`assistant.retrieval.fuse`. Dense search here is exact cosine over all chunks
(Chroma's HNSW is approximate, so the pipeline's figures can differ slightly).
A question hits when a chunk of its paragraph is among the top k.

The grid (header on/off, n-gram size, fusion method, weights) is searched on the
dev half only; the best setting by hit@1 (then MRR) is then reported on the test
half and the full set beside today's defaults.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import sys
import time
from pathlib import Path

import numpy as np

from assistant.embedders import get_embedder
from assistant.evals.squad import paragraph_markdown, read_squad
from assistant.lexical import NGRAMS, WORDS, IndexedDoc, LexicalIndex, char_ngrams, default_tokenizer
from assistant.loading import load_bytes
from assistant.retrieval import fuse
from assistant.settings import load_settings
from assistant.splitting import SplitterConfig, contextual_text, split_document

ROOT = Path(__file__).resolve().parents[1]
JSQUAD = ROOT.parent / "shared" / "datasets" / "jsquad" / "valid-v1.3.json"
CANDIDATES = 30
BASELINE = {
    "header": True,
    "ngram": 0,
    "fusion": "rrf",
    "rrf_k": 60,
    "dense": 1.0,
    "words": 1.0,
    "ngrams": 0.0,
}


def half(title: str) -> str:
    return "dev" if hashlib.sha256(title.encode()).digest()[0] % 2 == 0 else "test"


def load_corpus(path: Path, settings_chunk: tuple[int, int]) -> tuple[list[dict], list[dict]]:
    """Chunks (id, source, text, title, path) and questions (text, source, half)."""
    config = SplitterConfig(*settings_chunk)
    chunks, questions = [], []
    for paragraph in read_squad(path):
        source = f"{paragraph.id}.md"
        doc = load_bytes(paragraph_markdown(paragraph).encode(), source, ".md")
        for c in split_document(doc, config):
            chunks.append(
                {"id": c.id, "source": source, "text": c.text, "title": c.title, "path": c.heading_path}
            )
        for qa in paragraph.qas:
            if qa.get("answers"):
                questions.append(
                    {"q": str(qa["question"]).strip(), "source": source, "half": half(paragraph.title)}
                )
    return chunks, questions


def cached(cache: Path, name: str, texts: list[str], compute) -> np.ndarray:  # type: ignore[no-untyped-def]
    key = hashlib.sha256(("\x00".join(texts) + name).encode()).hexdigest()[:16]
    path = cache / f"{name.replace(':', '_').replace('/', '_')}-{key}.npy"
    if path.exists():
        return np.load(path)
    started = time.perf_counter()
    array = np.asarray(compute(texts), dtype=np.float32)
    np.save(path, array)
    sys.stderr.write(f"{name}: {len(texts)} texts in {time.perf_counter() - started:.0f}s\n")
    return array


def embed_queries(embedder, texts: list[str]) -> np.ndarray:  # type: ignore[no-untyped-def]
    """Questions as `embed_query` embeds them, in batches when the backend allows it (the
    sentence-transformers backend's model and query prompt: the same computation, faster)."""
    model, prompt = getattr(embedder, "_model", None), getattr(embedder, "_query_prompt", None)
    if model is not None and hasattr(model, "encode"):
        return np.asarray(model.encode(texts, prompt=prompt, normalize_embeddings=True, batch_size=64))
    return np.stack([embedder.embed_query(t) for t in texts])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cache", type=Path, default=Path("/tmp/retr-cache"))
    parser.add_argument("--jsquad", type=Path, default=JSQUAD, help="JSQuAD valid-v1.3.json")
    parser.add_argument("--baseline-only", action="store_true")
    parser.add_argument("--dense-header-off", action="store_true",
                        help="also embed the passages without the header (minutes with the real model)")  # fmt: skip
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    args.cache.mkdir(parents=True, exist_ok=True)
    settings = load_settings()
    chunks, questions = load_corpus(args.jsquad, (settings.chunk_size, settings.chunk_overlap))
    sys.stderr.write(f"{len(chunks)} chunks, {len(questions)} questions "
                     f"({sum(q['half'] == 'dev' for q in questions)} dev)\n")  # fmt: skip
    embedder = None

    def model():  # type: ignore[no-untyped-def]
        nonlocal embedder
        embedder = embedder or get_embedder(settings.embedder, settings.models_dir)
        return embedder

    texts = {h: [contextual_text(c["text"], c["title"], c["path"], h) for c in chunks] for h in (True, False)}
    dense_docs = {h: cached(args.cache, f"{settings.embedder}-doc", texts[h], lambda t: model().embed_documents(t))
                  for h in (True, False) if h or args.dense_header_off}  # fmt: skip
    qtexts = [q["q"] for q in questions]
    qvec = cached(args.cache, f"{settings.embedder}-query", qtexts, lambda t: embed_queries(model(), t))
    ids = [c["id"] for c in chunks]
    source_of = {c["id"]: c["source"] for c in chunks}
    tok = default_tokenizer()
    qwords = [tok.tokenize(q) for q in qtexts]

    lists: dict[tuple, list[list[tuple[str, float]]]] = {}
    for h in (True, False):
        sims = qvec @ dense_docs.get(h, dense_docs[True]).T
        top = np.argsort(-sims, axis=1)[:, :CANDIDATES]
        lists[("dense", h, 0)] = [[(ids[j], float(sims[i, j])) for j in row] for i, row in enumerate(top)]
        words = [tok.tokenize(t) for t in texts[h]]
        for n in (0, 2, 3):
            index = LexicalIndex([WORDS, NGRAMS] if n else [WORDS])
            index.upsert(IndexedDoc(c["id"], c["source"], {WORDS: w, NGRAMS: char_ngrams(t, n) if n else []})
                         for c, w, t in zip(chunks, words, texts[h], strict=True))  # fmt: skip
            index.compact()
            if n == 0:
                lists[("words", h, 0)] = [index.search(WORDS, w, CANDIDATES) for w in qwords]
            else:
                lists[("ngrams", h, n)] = [
                    index.search(NGRAMS, char_ngrams(q, n), CANDIDATES) for q in qtexts
                ]

    def evaluate(cfg: dict, which: list[int]) -> dict[str, float]:
        hits = np.zeros(6)
        rr = 0.0
        for i in which:
            fused = fuse(lists[("dense", cfg["header"], 0)][i], lists[("words", cfg["header"], 0)][i],
                         cfg["fusion"], cfg["dense"], cfg["words"], cfg["rrf_k"],
                         ngrams=lists[("ngrams", cfg["header"], cfg["ngram"])][i] if cfg["ngram"] else None,
                         ngram_weight=cfg["ngrams"])  # fmt: skip
            ranked = sorted(fused, key=lambda c: -fused[c]["score"])[:5]
            gold = questions[i]["source"]
            rank = next((r for r, c in enumerate(ranked, 1) if source_of[c] == gold), None)
            if rank:
                hits[rank:] += 1
                rr += 1 / rank
        n = max(1, len(which))
        return {"hit@1": hits[1] / n, "hit@3": hits[3] / n, "hit@5": hits[5] / n, "mrr@5": rr / n}

    splits = {
        "dev": [i for i, q in enumerate(questions) if q["half"] == "dev"],
        "test": [i for i, q in enumerate(questions) if q["half"] == "test"],
        "full": list(range(len(questions))),
    }
    configs = [BASELINE]
    if not args.baseline_only:
        for h, n, (fusion, k), dw, ww, nw in itertools.product(
            (True, False) if args.dense_header_off else (True,), (0, 2, 3), (("rrf", 10), ("rrf", 30), ("rrf", 60), ("score", 0)),
            (1.0,), (0.0, 0.5, 1.0, 1.5), (0.0, 0.5, 1.0, 1.5, 2.0),
        ):  # fmt: skip
            if (n == 0) != (nw == 0.0):
                continue
            configs.append({"header": h, "ngram": n, "fusion": fusion, "rrf_k": k, "dense": dw, "words": ww,
                            "ngrams": nw})  # fmt: skip
    scored = [(evaluate(cfg, splits["dev"]), cfg) for cfg in configs]
    _, best = max(scored, key=lambda s: (round(s[0]["hit@1"], 6), s[0]["mrr@5"]))
    rows = {"baseline (today)": BASELINE, "tuned on dev": best}
    out: dict[str, dict] = {}
    sys.stdout.write(
        f"{'setting':<18}{'split':<6}{'qs':>6}{'hit@1':>8}{'hit@3':>8}{'hit@5':>8}{'mrr@5':>8}\n"
    )
    for label, cfg in rows.items():
        out[label] = {"config": cfg}
        for split, which in splits.items():
            m = evaluate(cfg, which)
            out[label][split] = m
            sys.stdout.write(f"{label:<18}{split:<6}{len(which):>6}"
                             + "".join(f"{m[k]:>8.3f}" for k in ("hit@1", "hit@3", "hit@5", "mrr@5")) + "\n")  # fmt: skip
    sys.stdout.write(f"tuned: {json.dumps(best)}\n")
    top = sorted(scored, key=lambda s: (-s[0]["hit@1"], -s[0]["mrr@5"]))[:10]
    for m, cfg in top:
        sys.stdout.write(f"  dev {m['hit@1']:.3f} {m['hit@5']:.3f} {m['mrr@5']:.3f}  {json.dumps(cfg)}\n")
    if args.json:
        args.json.write_text(json.dumps({"rows": out, "top_dev": top}, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
