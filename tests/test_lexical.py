from __future__ import annotations

from assistant.lexical import WORDS, IndexedDoc, LexicalIndex, default_tokenizer


def test_normalised_forms_match_spelling_variants() -> None:
    tok = default_tokenizer()
    assert tok.tokenize("サーバー") == tok.tokenize("サーバ")


def test_particles_dropped_and_english_lowercased_and_singular() -> None:
    tokens = default_tokenizer().tokenize("コンテナはDocker Containersで動く")
    assert "は" not in tokens and "で" not in tokens
    assert "docker" in tokens and default_tokenizer().tokenize("container")[0] in tokens


def test_light_verbs_and_formal_nouns_are_dropped_in_any_spelling() -> None:
    # Terms are normalised forms (した → 為る): the stopwords must be matched the same way.
    tokens = default_tokenizer().tokenize("保存したものがあります。できることはない")
    assert tokens == ["保存", "出来る"], tokens


def test_english_auxiliaries_and_pronouns_are_dropped_but_may_and_us_are_kept() -> None:
    # "did" is rare in a passage, so as a term it weighed most: "Edison did receive …" won
    assert default_tokenizer().tokenize("In what year did he die?") == ["year", "die"]
    assert default_tokenizer().tokenize("Sold in May in the US") == ["sold", "may", "us"]


def test_tokens_stored_by_an_older_tokenizer_are_made_again_from_the_text() -> None:
    from assistant.lexical import TOKENIZER_VERSION
    from assistant.lexical_store import indexed_doc
    from assistant.store import StoredChunk

    old = StoredChunk("c", "保存したものがある。Zoë worked", {"tokens": "保存 為る 物 有る zoë worked"})
    assert indexed_doc(old, 0, header=False).fields[WORDS] == ["保存", "zoe", "work"]
    current = StoredChunk("c", "ignored", {"tokens": "保存 zoe work", "tokenizer": TOKENIZER_VERSION})
    assert indexed_doc(current, 0, header=False).fields[WORDS] == ["保存", "zoe", "work"]


def test_a_question_without_accents_finds_the_accented_word() -> None:
    tok = default_tokenizer()
    assert (
        tok.tokenize("Zoë moved to Gospić")
        == tok.tokenize("Zoe moved to Gospic")
        == ["zoe", "move", "gospic"]
    )
    assert tok.tokenize("ガバナンス") == ["ガバナンス"]  # kana keep their voicing marks
    from assistant.lexical import char_ngrams

    assert char_ngrams("Gospić", 3) == char_ngrams("gospic", 3)


def test_english_words_match_in_any_inflection() -> None:
    tok = default_tokenizer()
    assert tok.tokenize("He worked on containers") == tok.tokenize("he works on a container")
    assert tok.tokenize("Jobs use KVM 2.0") == ["job", "use", "kvm", "2.0"]  # short words and versions stay
    # an acronym's plural is the acronym: "How fast do VMs start?" finds "Favours a VM"
    assert (
        tok.tokenize("VMs and CPUs, URLs, OSes")
        == tok.tokenize("VM and CPU, URL, OS")
        == ["vm", "cpu", "url", "os"]
    )
    assert tok.tokenize("DaemonSets") == ["daemonset"]


def test_bm25_ranks_the_matching_document_first() -> None:
    tok = default_tokenizer()
    docs = {
        "vm": "仮想マシンはハイパーバイザーの上で動く。",
        "ct": "コンテナはカーネルを共有する。",
        "x": "天気は晴れ。",
    }
    index = LexicalIndex()
    index.upsert(IndexedDoc(i, i, {WORDS: tok.tokenize(t)}) for i, t in docs.items())
    assert index.search(WORDS, tok.tokenize("ハイパーバイザーとは"), 3)[0][0] == "vm"
    assert index.search(WORDS, tok.tokenize("カーネルの共有"), 3)[0][0] == "ct"
    assert index.search(WORDS, tok.tokenize("量子力学"), 3) == []
    assert index.coverage(tok.tokenize("カーネルを共有"), "ct") == 1.0
    assert index.coverage(tok.tokenize("カーネルを共有"), "x") == 0.0


# --- the persisted, incrementally updated index (issue 16) -----------------------------

import json  # noqa: E402
import os  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from assistant.lexical import NGRAMS, analyze, char_ngrams  # noqa: E402
from assistant.lexical_store import LexicalStore  # noqa: E402
from assistant.pipeline import Assistant  # noqa: E402
from assistant.settings import Settings  # noqa: E402

QUERIES = [
    "ハイパーバイザーの役割",
    "カーネルを共有する仕組み",
    "料金プラン",
    "kernel sharing",
    "量子コンピュータ",
]
DOCS = {
    "vm.md": "# 仮想マシン\n\n## 仕組み\n\n仮想マシンはハイパーバイザーの上でゲストOSを動かす。\n",
    "ct.md": "# コンテナ\n\n## 仕組み\n\nコンテナはホストのカーネルを共有する。Containers share the kernel.\n",
    "price.md": "# 料金\n\n## 料金プラン\n\n月額千円の基本プランと、年額一万円の年間プランがある。\n",
}


def test_char_ngrams_skip_spaces_and_punctuation() -> None:
    assert char_ngrams("コンテナ、VM", 2) == ["コン", "ンテ", "テナ", "vm"]
    assert char_ngrams("a b", 2) == ["a", "b"]


def _docs(texts: dict[str, str]) -> list[IndexedDoc]:
    return [IndexedDoc(k, k.split("#")[0], analyze(t, None, 2)) for k, t in texts.items()]


def _all_scores(index: LexicalIndex) -> dict[str, dict[str, float]]:
    """Every live chunk's score in both fields for every query."""
    out: dict[str, dict[str, float]] = {}
    for q in QUERIES:
        terms = analyze(q, None, 2)
        for field in (WORDS, NGRAMS):
            scores = index.field_scores(field, terms[field])
            for chunk_id in index.ids_alive():
                out.setdefault(chunk_id, {})[f"{field}:{q}"] = float(scores[index._rows[chunk_id]])
    return out


def _assert_same(a: dict[str, dict[str, float]], b: dict[str, dict[str, float]]) -> None:
    assert a.keys() == b.keys()
    for chunk_id in a:
        assert a[chunk_id] == pytest.approx(b[chunk_id], rel=1e-9, abs=1e-12), chunk_id


def test_incremental_updates_score_like_a_full_rebuild(tmp_path: Path) -> None:
    texts = {f"{k}#{i}": v * (i + 1) for i, (k, v) in enumerate(DOCS.items())}
    index = LexicalIndex([WORDS, NGRAMS])
    index.upsert(_docs(texts))
    index.compact()
    index.save(tmp_path, {})
    index, _ = LexicalIndex.load(tmp_path)  # memory-mapped base
    changes = {"new.md#0": "新しい文書はカーネルとハイパーバイザーを比べる。", "vm.md#0": "仮想マシンの料金"}
    index.upsert(_docs(changes))  # one new, one replaced
    index.delete(["price.md#2"])
    expected = {**texts, **changes}
    del expected["price.md#2"]
    rebuilt = LexicalIndex([WORDS, NGRAMS])
    rebuilt.upsert(_docs(expected))
    _assert_same(_all_scores(index), _all_scores(rebuilt))
    index.save(tmp_path, {})  # the delta round-trips too
    _assert_same(_all_scores(LexicalIndex.load(tmp_path)[0]), _all_scores(rebuilt))
    # Each save writes only what changed since the previous one, in a file of its own.
    more = {"vm.md#0": "仮想マシンのカーネル", "extra.md#0": "追加の文書は料金を説明する。"}
    index.upsert(_docs(more))
    index.delete(["new.md#0"])
    before = json.loads((tmp_path / "state.json").read_text())["deltas"]
    index.save(tmp_path, {})
    state = json.loads((tmp_path / "state.json").read_text())
    assert state["deltas"][:-1] == before and all((tmp_path / name).exists() for name in state["deltas"])
    last = json.loads((tmp_path / state["deltas"][-1]).read_text())
    assert sorted(d[0] for d in last["docs"]) == sorted(more) and "new.md#0" in last["deleted"]
    expected = {k: v for k, v in {**expected, **more}.items() if k != "new.md#0"}
    rebuilt = LexicalIndex([WORDS, NGRAMS])
    rebuilt.upsert(_docs(expected))
    _assert_same(_all_scores(LexicalIndex.load(tmp_path)[0]), _all_scores(rebuilt))
    _assert_same(_all_scores(index), _all_scores(rebuilt))
    index.compact()
    _assert_same(_all_scores(index), _all_scores(rebuilt))


def _write(folder: Path, docs: dict[str, str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in docs.items():
        (folder / name).write_text(text, encoding="utf-8")


def _fresh_build(bot: Assistant, tmp_path: Path) -> LexicalIndex:
    """The index a full rebuild from the store gives (nothing saved, nothing loaded)."""
    other = bot.settings.model_copy(update={"data_dir": tmp_path / "elsewhere", "lexical_persist": False})
    lexical = LexicalStore(bot.store, other)
    index = lexical.sync()
    assert lexical.last_sync["how"] == "built"
    return index


def test_ingest_saves_the_index_and_a_new_process_loads_it(settings: Settings, tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    _write(docs, DOCS)
    bot = Assistant(settings)
    bot.ingest([docs])
    assert (settings.data_dir / "lexical" / settings.collection / "state.json").exists()
    reader = LexicalStore(Assistant(settings).store, settings)
    index = reader.sync()
    assert reader.last_sync["how"] == "loaded" and len(index) == len(bot.store.ids())
    _assert_same(_all_scores(index), _all_scores(_fresh_build(bot, tmp_path)))


def test_add_replace_delete_are_caught_up_not_rebuilt(settings: Settings, tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    _write(docs, DOCS)
    bot = Assistant(settings)
    bot.ingest([docs])
    retriever = bot.retriever
    retriever.lexical_index()
    steps = [
        lambda: _write(docs, {"new.md": "# 新機能\n\nライブマイグレーションで稼働中の仮想マシンを移す。\n"}),
        lambda: _write(docs, {"vm.md": "# 仮想マシン\n\n## 仕組み\n\nハイパーバイザーが資源を分ける。\n"}),
        lambda: (docs / "price.md").unlink(),
    ]
    for step, source in zip(steps, ["new.md", "vm.md", "price.md"], strict=True):
        step()
        bot.ingest([docs], prune=True)
        index = retriever.lexical_index()
        assert retriever.lexical.last_sync["how"] == "caught up"
        assert index.ids_alive() == bot.store.ids()
        # Only the changed document's chunks were read (by id, from the runs' change log).
        changed = [c for c in bot.store.all_chunks() if c.metadata["source"].endswith(source)]
        assert retriever.lexical.last_sync["via"] == "log"
        assert retriever.lexical.last_sync["read"] == len(changed)
        _assert_same(_all_scores(index), _all_scores(_fresh_build(bot, tmp_path)))
    assert retriever.search("ライブマイグレーション").chunks[0].source.endswith("new.md")
    assert not any(c.source.endswith("price.md") for c in retriever.search("料金プラン").chunks)


def test_a_second_process_ingests_and_the_first_sees_the_document(settings: Settings, tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    _write(docs, DOCS)
    bot = Assistant(settings)
    bot.ingest([docs])
    assert not any(
        "オーケストレーション" in c.text for c in bot.retriever.search("オーケストレーション").chunks
    )
    extra = tmp_path / "extra"
    _write(extra, {"k8s.md": "# Kubernetes\n\nオーケストレーションはコンテナの配置を自動化する。\n"})
    script = (
        "import sys; from pathlib import Path; from assistant.pipeline import Assistant; from assistant.settings import load_settings; "
        "Assistant(load_settings(data_dir=sys.argv[1], embedder='fake:256')).ingest([Path(sys.argv[2])])"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    subprocess.run([sys.executable, "-c", script, str(settings.data_dir), str(extra)], check=True, env=env,
                   timeout=300)  # fmt: skip
    found = bot.retriever.search("オーケストレーション").chunks
    assert found[0].source.endswith("k8s.md")
    assert bot.retriever.lexical.last_sync["how"] in {"caught up", "loaded"}


def test_a_stale_or_broken_saved_index_is_rebuilt(settings: Settings, tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    _write(docs, DOCS)
    bot = Assistant(settings)
    bot.ingest([docs])
    folder = settings.data_dir / "lexical" / settings.collection
    state = json.loads((folder / "state.json").read_text())
    (folder / state["deltas"][-1]).write_text("{broken")
    reader = LexicalStore(bot.store, settings)
    reader.sync()
    assert reader.last_sync["how"] == "built"  # unreadable: rebuilt and saved again
    again = LexicalStore(bot.store, settings)
    again.sync()
    assert again.last_sync["how"] == "loaded"
    other = LexicalStore(
        bot.store, settings.model_copy(update={"lexical_ngram": 2 if settings.lexical_ngram != 2 else 3})
    )
    other.sync()
    assert other.last_sync["how"] == "built"  # other build settings
    bot.store.drop()  # what `ingest --rebuild` does: a new collection, seq starts again
    bot.ingest([docs])
    fresh = LexicalStore(bot.store, settings)
    index = fresh.sync()
    assert fresh.last_sync["how"] == "loaded"  # ingest rebuilt and saved it for the new collection
    assert index.ids_alive() == bot.store.ids()
    stale = LexicalStore(bot.store, settings)
    stale.seq, stale.key = 99, fresh.key  # a reader that saw more runs than the store has
    stale.index = index
    stale.sync()
    assert stale.last_sync["how"] == "built"


def test_the_contextual_header_is_indexed(settings: Settings, tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    _write(docs, {"a.md": "# 製品ガイド\n\n## 保守契約\n\n年に一度の点検が含まれる。\n", **DOCS})
    bot = Assistant(settings)
    bot.ingest([docs])
    index = bot.retriever.lexical_index()
    words = default_tokenizer().tokenize("保守契約")
    assert index.search(WORDS, words, 1)[0][0] in {c.id for c in bot.store.all_chunks() if "点検" in c.text}
    assert index.search(NGRAMS, char_ngrams("製品ガイド", settings.lexical_ngram), 1)
    assert not np.isnan(index.field_scores(NGRAMS, ["保守"])).any()


def test_the_change_log_names_what_each_run_changed_and_gives_up_when_too_long() -> None:
    from assistant import changes

    journal = changes.Journal()
    journal.written(["a", "b"])
    log = journal.flush(None, 1)
    journal.clear()
    journal.written(["c"])
    journal.deleted(["a"])
    log = journal.flush(log, 2)
    journal.clear()
    assert changes.since(log, 0, 2) == (["b", "c"], {"a"})  # a written, then deleted: deleted
    assert changes.since(log, 1, 2) == (["c"], {"a"})
    assert changes.since(log, 1, 3) is None  # run 3 was written without the log: read by seq
    journal.written(f"x{i}" for i in range(changes.MAX_IDS + 1))
    log = journal.flush(log, 3)
    assert changes.since(log, 2, 3) is None  # too long for the log: read by seq
    journal.clear()
    journal.deleted(["c"])
    log = journal.flush(log, 4)
    assert changes.since(log, 3, 4) == ([], {"c"})


@pytest.mark.slow
def test_a_reader_behind_the_change_log_catches_up_by_sequence(settings: Settings, tmp_path: Path) -> None:
    from assistant import changes

    settings = settings.model_copy(update={"chunk_size": 60, "chunk_overlap": 0})
    docs = tmp_path / "docs"
    _write(docs, DOCS)
    bot = Assistant(settings)
    bot.ingest([docs])
    reader = LexicalStore(Assistant(settings).store, settings.model_copy(update={"lexical_persist": False}))
    reader.sync()
    lines = [
        f"第{i}項。装置番号{i}の点検記録を残し、担当者が確認して保管する。"
        for i in range(changes.MAX_IDS + 50)
    ]
    _write(docs, {"big.md": "# 記録\n\n" + "\n\n".join(lines) + "\n"})  # too many chunks for the log
    assert bot.ingest([docs]).chunks_embedded > changes.MAX_IDS
    _write(docs, {"new.md": "# 新機能\n\nライブマイグレーションで稼働中の仮想マシンを移す。\n"})
    bot.ingest([docs])
    reader.store.refresh_if_changed()
    index = reader.sync()
    assert reader.last_sync["how"] == "caught up" and reader.last_sync["via"] == "seq"
    assert index.ids_alive() == bot.store.ids()
    _assert_same(_all_scores(index), _all_scores(_fresh_build(bot, tmp_path)))
