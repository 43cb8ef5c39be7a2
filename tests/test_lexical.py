from __future__ import annotations

from assistant.lexical import BM25Index, default_tokenizer


def test_normalised_forms_match_spelling_variants() -> None:
    tok = default_tokenizer()
    assert tok.tokenize("サーバー") == tok.tokenize("サーバ")


def test_particles_dropped_and_english_lowercased_and_singular() -> None:
    tokens = default_tokenizer().tokenize("コンテナはDocker Containersで動く")
    assert "は" not in tokens and "で" not in tokens
    assert "docker" in tokens and "container" in tokens


def test_bm25_ranks_the_matching_document_first() -> None:
    tok = default_tokenizer()
    docs = {
        "vm": "仮想マシンはハイパーバイザーの上で動く。",
        "ct": "コンテナはカーネルを共有する。",
        "x": "天気は晴れ。",
    }
    index = BM25Index(list(docs), [tok.tokenize(t) for t in docs.values()])
    assert index.search(tok.tokenize("ハイパーバイザーとは"), 3)[0][0] == "vm"
    assert index.search(tok.tokenize("カーネルの共有"), 3)[0][0] == "ct"
    assert index.search(tok.tokenize("量子力学"), 3) == []
    assert index.coverage(tok.tokenize("カーネルを共有"), "ct") == 1.0
    assert index.coverage(tok.tokenize("カーネルを共有"), "x") == 0.0
