from __future__ import annotations

import itertools

from assistant.loading import Document, clean_markdown, load_file
from assistant.splitting import SplitterConfig, contextual_text, split_document
from assistant.text import split_sentences

from .conftest import CORPUS


def doc(text: str, title: str = "T") -> Document:
    return Document("mem.md", text, title, "hash")


def test_japanese_and_english_sentences_are_split() -> None:
    text = "コンテナは軽い。VMは重い！どちらを選ぶ？ It is fast. Really? Yes"
    assert split_sentences(text) == [
        "コンテナは軽い。",
        "VMは重い！",
        "どちらを選ぶ？",
        "It is fast.",
        "Really?",
        "Yes",
    ]


def test_closing_brackets_stay_with_their_sentence() -> None:
    assert split_sentences("「できる。」と書いた。次。") == ["「できる。」と書いた。", "次。"]


def test_heading_path_is_kept() -> None:
    text = "# T\n\n## 概要\n\n前文。\n\n### 各技術の詳細\n\n詳細の本文。\n"
    chunks = split_document(doc(text), SplitterConfig(200, 20))
    assert [(c.heading, c.text) for c in chunks] == [
        ("概要", "前文。"),
        ("概要 > 各技術の詳細", "詳細の本文。"),
    ]


def test_a_section_holding_only_a_figure_is_not_a_chunk() -> None:
    """An image's caption and its credit state nothing: no passage of their own. A caption
    in a section with text stays, and so does a sentence with a bracket."""
    text = (
        "## 詳細\n\n![Kettle vs Pot](https://example.com/k.png)\n*(出典: Tea Docs)*\n\n"
        "### 1. やかん\n\nやかんは湯を沸かす。\n\n### 2. 急須\n\n![Pot](p.png)\n\n急須は茶を淹れる（主に緑茶）。\n"
    )
    chunks = split_document(doc(clean_markdown(text)), SplitterConfig(200, 20))
    assert [(c.heading, c.text) for c in chunks] == [
        ("詳細 > 1. やかん", "やかんは湯を沸かす。"),
        ("詳細 > 2. 急須", "（Pot）\n急須は茶を淹れる（主に緑茶）。"),
    ]


def test_tables_are_kept_whole_when_they_fit() -> None:
    table = "| a | b |\n| --- | --- |\n" + "".join(f"| 行{i} | 値{i} |\n" for i in range(10))
    text = "## S\n\n" + "前の段落。" * 20 + "\n\n" + table + "\n後の段落。"
    chunks = split_document(doc(text), SplitterConfig(200, 20))
    holding = [c for c in chunks if "| 行0 |" in c.text]
    assert len(holding) == 1 and all(f"| 行{i} |" in holding[0].text for i in range(10))


def test_large_tables_repeat_their_header() -> None:
    table = "| a | b |\n| --- | --- |\n" + "".join(f"| 行{i} | 値{i} |\n" for i in range(60))
    chunks = split_document(doc(table), SplitterConfig(200, 20))
    assert len(chunks) > 1 and all(c.text.startswith("| a | b |") for c in chunks)


def test_size_and_overlap_are_respected() -> None:
    text = "".join(f"これは文{i}です。" for i in range(200))
    chunks = split_document(doc(text), SplitterConfig(120, 30))
    assert all(len(c.text) <= 120 for c in chunks)
    for a, b in itertools.pairwise(chunks):
        first_of_b = split_sentences(b.text)[0]
        assert first_of_b in a.text  # the next chunk starts with the end of the previous one


def test_ids_are_stable_and_content_derived() -> None:
    seed = load_file(CORPUS / "containers-vs-vms.ja.md")
    config = SplitterConfig()
    first = [c.id for c in split_document(seed, config)]
    assert first == [c.id for c in split_document(seed, config)]
    assert len(set(first)) == len(first)
    changed = Document(seed.source, seed.text.replace("秒単位", "ミリ秒単位"), seed.title, "h2")
    second = [c.id for c in split_document(changed, config)]
    assert len(set(first) - set(second)) == 1  # only the chunk that changed gets a new id


def test_seed_document_chunks_cover_all_text() -> None:
    seed = load_file(CORPUS / "containers-vs-vms.ja.md")
    chunks = split_document(seed, SplitterConfig())
    joined = "\n".join(c.text for c in chunks)
    for fact in ("数MB〜数百MB", "ハイパーバイザー", "Build once, run anywhere", "OpenShift Virtualization"):
        assert fact in joined
    assert any(c.heading == "各技術の詳細 > 1. 仮想マシン (Virtual Machine) > 主な特徴" for c in chunks)


def test_contextual_text_puts_title_and_headings_before_the_passage() -> None:
    doc = Document(
        "/x/guide.md", "# 製品ガイド\n\n## 保守契約\n\n年に一度の点検が含まれる。\n", "製品ガイド", "h"
    )
    (chunk,) = split_document(doc, SplitterConfig())
    assert chunk.heading_path == ["保守契約"]
    text = contextual_text(chunk.text, chunk.title, chunk.heading_path)
    assert text.split("\n")[0] == "製品ガイド > 保守契約" and text.endswith("年に一度の点検が含まれる。")
    assert chunk.embedding_text == text
    assert contextual_text(chunk.text, chunk.title, chunk.heading_path, header=False) == chunk.text
    assert contextual_text("本文", "", []) == "本文"  # no context, no empty header line
