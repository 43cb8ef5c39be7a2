"""The ground-floor text utilities: one implementation each, used by every layer."""

from __future__ import annotations

from assistant.text import (
    CitationRenumberer,
    citation_numbers,
    detect_language,
    is_separator_row,
    markdown_blocks,
    parse_table,
    split_answer_sentences,
    split_sentences,
    strip_citations,
    strip_markup,
)


def test_language_is_japanese_when_japanese_script_is_present() -> None:
    assert detect_language("What is a コンテナ?") == "ja"
    assert detect_language("What is a container?") == "en"
    assert detect_language("ｺﾝﾃﾅ") == "ja"  # half-width katakana


def test_document_sentences_end_at_japanese_and_english_punctuation() -> None:
    assert split_sentences("速い。遅い！ Fast. Slow?\n次") == ["速い。", "遅い！", "Fast.", "Slow?", "次"]


def test_an_english_full_stop_after_an_abbreviation_ends_no_sentence() -> None:
    text = "Kettles are sold in the U.S. market by Dr. Green. Prices vary, e.g. by size. Tea is cheap."
    assert split_sentences(text) == [
        "Kettles are sold in the U.S. market by Dr. Green.",
        "Prices vary, e.g. by size.",
        "Tea is cheap.",
    ]
    # a line end always ends a sentence
    assert split_sentences("Made in the U.S.\nNext line.") == ["Made in the U.S.", "Next line."]


def test_answer_sentences_end_at_citation_marks_and_line_ends() -> None:
    answer = "コンテナ — 起動速度: 高速（秒単位） [1] 仮想マシンは分単位で起動します。 [2]\n- 追加 [3]"
    assert split_answer_sentences(answer) == [
        "コンテナ — 起動速度: 高速（秒単位） [1]",
        "仮想マシンは分単位で起動します。 [2]",
        "- 追加 [3]",
    ]
    assert split_answer_sentences("It is fast [1][2]. It is small.") == ["It is fast [1][2].", "It is small."]


def test_an_answer_sentence_does_not_end_at_an_initial_or_an_abbreviation() -> None:
    # split as the document was, so the answerer cites "J. P. Smith" once, not "J. [1] P. [1]"
    answer = "Backed by the banker J. P. Smith, the mill reopened. It stands on Mill Ave. and 5th St. today."
    sentences = [
        "Backed by the banker J. P. Smith, the mill reopened.",
        "It stands on Mill Ave. and 5th St. today.",
    ]
    assert split_answer_sentences(answer) == split_sentences(answer) == sentences
    assert split_answer_sentences("By J. [1] P. Smith. [2]") == ["By J. [1]", "P. Smith. [2]"]


def test_citation_marks_are_found_and_stripped() -> None:
    assert citation_numbers("a [2] b [1] c [2]") == [2, 1, 2]
    assert strip_citations("a [2] b [1].") == "a b."


def test_renumbering_holds_back_a_mark_split_across_pieces() -> None:
    renumber = CitationRenumberer(4)
    out = [renumber.feed(p) for p in ["x [", "4", "] y [2] z [4][9]"]]
    assert "".join(out) + renumber.flush() == "x [1] y [2] z [1]"
    assert out[0] == "x " and renumber.mapping == {4: 1, 2: 2} and renumber.dropped == 1
    assert CitationRenumberer(1).feed("[") == "" and CitationRenumberer(1).flush() == ""


def test_tables_are_parsed_once_for_every_layer() -> None:
    text = "前置き\n| 項目 | **A** | B |\n|---|:--:|---|\n| 速度 | 秒 | 分 |\n| サイズ | MB |\n後書き"
    blocks = markdown_blocks(text)
    assert [t for t, _ in blocks] == [False, True, False]
    table = parse_table(blocks[1][1])
    assert table.header == ["項目", "A", "B"]
    assert table.rows == [["速度", "秒", "分"], ["サイズ", "MB"]]
    assert table.columns() == {"項目": ["速度", "サイズ"], "A": ["秒", "MB"], "B": ["分", ""]}


def test_a_compact_delimiter_row_and_mark_shortcodes() -> None:
    """``|-|-|`` (READMEs write it so) is the delimiter, not a row of dashes; GitHub's
    shortcodes of yes / no marks are shown as the marks, other shortcodes as written."""
    table = parse_table(
        "| Tool | Lang | GPU |\n|-|-|-|\n| kettle | rust | :x: |\n| pot | C | :white_check_mark: |"
    )
    assert table.rows == [["kettle", "rust", "❌"], ["pot", "C", "✅"]]
    assert all(is_separator_row(r) for r in ["|-|-|", "| --- | :-: |", "|:---|---:|", "---|---"])
    assert not any(is_separator_row(r) for r in ["| - x | y |", "| 1 | 2 |", "|"])
    assert strip_markup("a :smile: b :x:") == "a :smile: b ❌" and strip_markup("12:30:45") == "12:30:45"


def test_markup_is_removed_but_link_text_kept() -> None:
    assert strip_markup("**太字** と `code` と [リンク](http://x) ![img](a.png)") == "太字 と code と リンク"
