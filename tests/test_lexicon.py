"""The bilingual word bridge (JMdict through the jamdict-data package): its keys and
translations, and what they change for an English question over Japanese documents."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.lexicon import NoLexicon, database_path, make_lexicon
from assistant.settings import load_settings

pytestmark = pytest.mark.skipif(database_path() is None, reason="jamdict-data is not installed")


def test_a_japanese_noun_has_the_stems_of_its_english_glosses() -> None:
    lexicon = make_lexicon("jmdict")
    assert "durabl" in lexicon.keys("耐久性")  # "durability", stemmed like the index
    assert "handl" in lexicon.keys("取っ手")
    assert lexicon.keys("kettle") == {"kettle"}  # an English term is its own key


def test_verbs_adjectives_and_single_characters_are_not_bridged() -> None:
    """Words of many senses would match any question: 大きい is "big", 台 is "table"."""
    lexicon = make_lexicon("jmdict")
    assert not lexicon.keys("大きい") and not lexicon.keys("動く") and not lexicon.keys("台")


def test_english_words_translate_to_japanese_unless_vague() -> None:
    lexicon = make_lexicon("jmdict")
    assert "耐久性" in lexicon.translations("durability")
    assert lexicon.translations("start") == []  # glosses too many entries to choose from


def test_the_none_lexicon_bridges_nothing() -> None:
    assert make_lexicon("none").keys("耐久性") == frozenset() and NoLexicon().translations("kettle") == []
    with pytest.raises(ValueError, match="jmdict"):
        make_lexicon("wordnet")


def _best(question: str, texts: list[str], lexicon: str) -> str:
    """The best unit over hand-made Japanese passages (fake embedder: only words decide)."""
    from assistant.answerers.extractive import ExtractiveAnswerer
    from assistant.embedders import get_embedder
    from assistant.types import Passage

    answerer = ExtractiveAnswerer(settings=load_settings(lexicon=lexicon), embedder=get_embedder("fake:256"))
    passages = [
        Passage(str(i), text, f"{i}.md", "ケトル", [], number=i, rank=i) for i, text in enumerate(texts, 1)
    ]
    return answerer.select(question, passages)[0].text


def test_an_english_question_word_matches_its_japanese_translation_in_a_unit() -> None:
    texts = ["ケトルの取っ手は木製です。", "ケトルの耐久性は十年です。"]
    question = "What is the durability of the kettle?"
    assert "耐久性" in _best(question, texts, "jmdict")
    assert "取っ手" in _best(question, texts, "none")  # without the bridge the first one wins


def test_a_japanese_question_word_matches_its_english_gloss_in_a_unit() -> None:
    texts = ["The kettle body is made of steel.", "The kettle handle is made of wood."]
    assert "handle" in _best("このkettleの取っ手は何でできていますか？", texts, "jmdict")
    assert "body" in _best("このkettleの取っ手は何でできていますか？", texts, "none")


def test_an_english_question_finds_a_japanese_passage_by_translation(tmp_path: Path) -> None:
    """The lexical side of retrieval searches the Japanese words of the question's English
    ones; the fake embedder gives no help across languages."""
    from assistant.pipeline import Assistant

    corpus = tmp_path / "docs"
    corpus.mkdir()
    (corpus / "tea.md").write_text("# 緑茶\n\n緑茶は摘んだ葉を蒸してから揉みます。\n", encoding="utf-8")
    (corpus / "kettle.md").write_text("# ケトル\n\nこの製品の耐久性は約十年です。\n", encoding="utf-8")
    (corpus / "cup.md").write_text("# カップ\n\n湯呑みは陶器で作られます。\n", encoding="utf-8")
    bot = Assistant(load_settings(data_dir=tmp_path / "data", embedder="fake:256", corpus=[corpus]))
    bot.ingest()
    found = bot.retriever.search("What is the durability of this product?", 1).chunks
    assert found and found[0].source.endswith("kettle.md")


def test_a_japanese_question_finds_an_english_passage_by_its_glosses(tmp_path: Path) -> None:
    """The other way: the lexical side searches the English glosses of the question's
    Japanese nouns, over English documents beside Japanese ones (the fake embedder gives no
    help across languages)."""
    from assistant.pipeline import Assistant

    corpus = tmp_path / "docs"
    corpus.mkdir()
    (corpus / "tea.md").write_text("# 緑茶\n\n緑茶は摘んだ葉を蒸してから揉みます。\n", encoding="utf-8")
    (corpus / "kettle.md").write_text(
        "# Kettle\n\nThe durability of this product is ten years.\n", encoding="utf-8"
    )
    (corpus / "cup.md").write_text("# Cup\n\nThe cup is made of porcelain.\n", encoding="utf-8")
    bot = Assistant(load_settings(data_dir=tmp_path / "data", embedder="fake:256", corpus=[corpus]))
    bot.ingest()
    found = bot.retriever.search("この製品の耐久性はどのくらいですか？", 1).chunks
    assert found and found[0].source.endswith("kettle.md")


def test_a_damaged_dictionary_bridges_nothing_and_says_how_to_mend_it(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from assistant.lexicon import JMdictLexicon

    damaged = tmp_path / "jamdict.db"
    damaged.write_bytes(b"not a database" * 100)
    lexicon = JMdictLexicon(damaged)
    with caplog.at_level("WARNING", logger="assistant.lexicon"):
        assert lexicon.keys("耐久性") == frozenset() and lexicon.translations("durability") == []
        assert lexicon.translations("kettle") == []
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 1 and "pip install --force-reinstall jamdict-data" in warnings[0]
