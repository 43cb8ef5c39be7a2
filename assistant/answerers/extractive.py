"""The offline default answerer: it composes answers from the passages' own words.

Each retrieved passage becomes evidence units (`assistant.units`: table
cells with their row and column, list items with their lead-in and subject,
sentences with the sentence they refer to). Each unit is scored by

- how much of the question's content it covers (terms weighted by rarity among the
  units, ``W_COVERAGE``), half in the unit's own words and half with its context
  (``OWN_SHARE``: headings and lead-ins name the subject but do not answer); a Japanese
  word found only as a synonym (SudachiDict's synonym groups: 止める・停止) counts
  ``assistant.lexical.SYNONYM_WEIGHT`` (0.5: on the development splits, seed 0.877 and
  corpus 0.737 unchanged, related 0.824 → 0.853; 0.25 lost that question, full weight
  lost two seed questions to words of several senses: ケース・例); a word of the other
  language found only as its translation (`assistant.lexicon`: a Japanese noun of two
  characters or more and its JMdict glosses, 耐久性 = durability) counts
  ``assistant.lexical.CROSS_WEIGHT`` (0.5; on the development splits with retrieval's
  translations on, seed 0.890 → 0.904 and related 0.882 → 0.912, corpus unchanged, the
  JSQuAD dev half unchanged at 0.882; 0.25 and 1.0 gave the same; glossing verbs and
  adjectives too lost a seed question to 大きい = "big", single kanji one to 台 = "table",
  and matching two Japanese words through a shared gloss lost five);
- its embedding similarity to the question (``W_DENSE``; this carries questions
  across languages);
- the question type (`assistant.questions`): cells for values, rows for
  comparisons, items for lists, reason sentences for why, defining sentences for
  definitions (``BONUS``), and a penalty for meta sentences that only say that
  something differs, matters or exists (``META_PENALTY``; not when a clause before a
  contrast states something: 「どちらも…を提供しますが、…に違いがあります」);
- who / where questions (誰・どこ / who, where, "in what country"): a bonus for a unit
  that names something the question does not (``NAMED_BONUS``; names are
  `assistant.relevance.question_names`: proper nouns, capitalised words);
- file, option and field questions (どのファイル / which option …): a bonus for a unit
  holding a path, a ``--flag`` or a camelCase key (``LITERAL_BONUS``; on our corpus's
  development split 0.737 → 0.789 at 0.06 and 0.816 at 0.12, seed and related unchanged;
  JSQuAD and SQuAD development halves unchanged);
- a cell of a table whose question names another of its columns (「cgroup v2 のとき」
  against the v1 cell, which shares more words with the question) loses
  ``COLUMN_PENALTY`` (our corpus's development split 0.816 → 0.842 at 0.06 and 0.12,
  seed and related unchanged);
- a small prior for earlier passages (the retriever's order).

A who / where sentence that names nothing the question does not (「…最も面積が大きい市で
ある。」 for 「…最も面積が大きい市はどこか」) is about its document's subject: its title
leads the answer (`assistant.answerers.compose`; JSQuAD development half 0.882 → 0.885,
SQuAD's and the seed, related and corpus development splits unchanged; also counting
「何党」「…国は？」 as who / where questions gained nothing more and was dropped). So is a
Japanese sentence with no topic (no は・も: 「…中心都市で、兵庫県で最も面積が大きい市である。」),
whose unsaid subject is the document's (JSQuAD development half 0.885 → 0.892; the other
development sets unchanged).

A measure question (どのくらい・何分 / how long, how big) wants a quantity: the words that
only frame it (the measure phrase, general nouns of the dimension such as 時間, verbs of
spending such as かかる / take) are left out of the coverage, so 「起動にも時間がかかります」 no
longer outscores the cell 「低速（分単位）」, and a cell holding a value gets
``MEASURE_BONUS`` (0.12; a sentence with a value half). On the development splits: seed
0.880 → 0.892 (one more near-topic refusal: the count asked for is no longer found in an
unrelated sentence), related and corpus unchanged, JSQuAD and SQuAD development halves
unchanged; the frame alone (bonus 0.06) left the cell second in the hand-made test.

When the best unit for such a question holds no quantity of the dimension it asks in
(`assistant.questions.measure_dimension`: 「Kata …では、VM の起動時間が加わります」 for 「VMの起動には
どのくらい時間がかかりますか？」), the best unit that holds one follows it if it scores within
``MEASURE_REACH`` (0.25) of it (「実行環境の準備 — 仮想マシン: …（数十秒〜数分）」). Chosen with the
retriever's ``MEASURE_BOOST`` on the development splits (seed 0.938 → 0.948, the others
unchanged); a reach of 0.4 lost a question of SQuAD's development half.

For a date question, the noun of an English question word ("in what year", "which century")
weighs nothing in a unit's coverage, as 何年 does not: "In the years after …" holds no more
of the answer. Measured with the stopwords of `assistant.lexical` on SQuAD's development half
(0.811 → 0.820 together); the Japanese sets unchanged.

A sentence whose own words are all the question's but ``RESTATES`` restates it
(「…場合がある。」 for 「…場合を何という？」); when it is the best unit, the sentence
after it joins the answer, since that is where the fact asked for stands (「これを…と呼ぶ。」).

The best units are shaped into an answer (`assistant.answerers.compose`) and streamed
line by line, each with its ``[n]`` citation. When no unit holds a fact of the kind the
question asks for (a price, a date, a version, a count), nothing is yielded and the
pipeline refuses, showing the closest passages. What the question names must stand in the
unit's passage; an acronym of the question ("US") counts when the passage spells it out
("the United States"), and a name the question writes in pieces when the passage writes it as
one (「micro VM」: microVM), or the reverse. Looking for the names in the other passages of the unit's
document instead was tried and dropped: over a one-document corpus such as the seed,
every passage names everything, and a near-topic probe of its development split was
answered.

When some of the best three units state the fact asked for and score within
``compose.CLOSE`` of the best, they lead the answer: "When did Tesla get his US
citizenship?" is answered with the sentence giving the year of his naturalisation, not
with a sentence scoring 0.015 higher whose year is of something else. Leading by any
margin also moved "the park … seats up to 2,500 people", far ahead, behind a sentence
that names the park (SQuAD development half 0.797 → 0.793). With the date shapes of
`assistant.questions`, whole sentences across semicolons and 「同年」 as an antecedent
word (`assistant.units`), all chosen on the development halves: SQuAD 0.790 →
0.800, JSQuAD 0.892 → 0.895; the seed, related and corpus development splits unchanged.

A sentence that points back (これにより / "This hypothesis …") says what it says of its
antecedent, and is quoted with it: when its own words add a word of the question, the
antecedent's words count as its own too, so "This hypothesis is called the Cobham–Edmonds
thesis" (with the sentence before it) wins over that sentence, which only restates the
question. Counting them always gained as much on the JSQuAD and SQuAD development halves
but lost two development questions: a pointing sentence that adds nothing asked for
(「その間に、…」 after the sentence that answers) and a lead-in ending in a colon ("Their
defaults:"). With both conditions: JSQuAD development half 0.907 → 0.910, SQuAD's 0.790 →
0.797, the seed, related and corpus development splits unchanged; with the English sentences
that point back by a number or a part ("All three …", "The result …": `assistant.units`),
SQuAD's 0.803.

When no unit that states the fact scores close to the best, a value answer still quotes
the best first (it is the closest match, and one far behind is often about something
else), then the closest unit among the best three that states the fact: "When did Tesla
make the induction motor?" used to be answered only with a sentence about his induction
motor that gives no year, while the sentence "… developed at that laboratory in 1887 …"
stood 0.054 behind (SQuAD development half 0.803 → 0.807 with the naming rule of
`assistant.answerers.compose`; JSQuAD's unchanged by this rule; the seed, related and
corpus development splits unchanged). Leading with it instead was tried in an earlier
session and dropped: it moved the right sentence behind a wrong one as often.

A Japanese question that asks a fact of a predicate (「Dockerが公開されたのは何年」:
`assistant.relevance.asked_predicate`) is answered only by a unit that has the predicate or a
synonym of it beside the fact: 「OCI は 2015年に Docker などが設立した団体」 names Docker and
holds a year, but not the year Docker was released (over our corpus, which has none, it was
quoted; added to our corpus's development split as a near-topic probe). On the
development sets: JSQuAD half 0.912 → 0.915 (「タイでビルマ暦が廃止されたのはいつか」 is no longer
answered with a year of the calendar itself), the seed, related and corpus splits and SQuAD's
half unchanged. The predicate is the verb's dictionary form (入り始める → 入る). A date that
stands right before the predicate's subject, naming it (「1960年の第29回総選挙」,
「2009年8月30日投開票の第45回…総選挙」: `assistant.relevance.dates_subject`), is the date of
that thing whatever verb the question uses for its taking place (行われた・開かれた): JSQuAD
development half, replayed over the stored passages, 0.9055 → 0.9065 (three gained, none lost);
the seed, related and corpus development splits unchanged. Dropping the predicate rule instead
gained ten there but answered our corpus's probe again. A date in a relative clause before the
name (「2011年3月11日に発生した東日本大震災」) is not taken: 「2015年に設立されたDocker」 would
then date Docker's release.

A code block is one unit (`assistant.units`) that answers only a question asking
for a command, a file, an option or a field, or how to do something
(`assistant.questions.Question.wants_code`); for any other it loses ``CODE_PENALTY`` and
states no fact (a version in a console's output is not a version the documents give). A
lead-in that introduces a code block brings it into the answer. On the development sets:
related 0.941 → 0.971 (a console listing no longer answers a question about configuration
drift), the seed, corpus, JSQuAD and SQuAD ones unchanged; without the how-to questions our
corpus's split lost 「…にはどう指定しますか？」, answered by a command.

What the question names may also stand in another retrieved passage of the same section of
the same document (a section cut into passages names its subject once), and a country is
named by its people ("China": "25 million Chinese"); an English year is not a count (see
`assistant.questions`). SQuAD development half 0.807 → 0.813; the others unchanged.

A question about a default ("the default restart policy", 既定値: `assistant.questions.DEFAULT`)
is answered only by a unit that speaks of a default, in itself or in its heading or
lead-in: the options of a setting without its default do not answer it (seed and related
development splits: refusal recall 0.941 → 0.971 and 0.875 → 1.0, no answerable question
lost; JSQuAD and SQuAD development halves unchanged). The default must also be of the thing
asked about (`assistant.questions.default_of`: "restart policy" in "the default restart
policy of …" stands in the unit's passage), else 「Default CRI socket」 answered a question
about a restart policy over our corpus, which has none; the development splits unchanged.

A question that asks who or what did something with no question word (a cleft 「…を発表した
のは？」, a noun after a clause 「…談合を認めたゼネコンは」, 「…は何と呼ばれますか」:
`assistant.questions`) is a who / where question too, and a sentence whose only は marks a time
or a place (「…損なうときは」「東京には」) or whose subject is 同社・同党 … has no subject of its
own: its document's title leads the answer (JSQuAD development half 0.915 → 0.922 with four
such questions gained and one lost, 「…発表をしている機関は？」, whose sentence names another
body; the related development split gains 「…Podは何と呼ばれますか」, answered by its page's
title; the seed and corpus splits unchanged).

A count must count what an English question counts ("How many layers …", "the number of init
containers": `assistant.questions.count_owners`): 「次の3つの仕様を定めています」 and
「違いが1つあります」 do not answer it, while a count whose thing is not written beside it
may; across languages through the lexicon (仕様 = specification). On the development sets:
our corpus's refusal recall 0.889 → 1.0 ("What is the maximum number of layers an OCI image
may contain?"), related's gains "What is the maximum number of init containers …"; the seed
split and the JSQuAD half unchanged.

A list question that names what it lists (「…を選ぶべきケースは？」 / "List the cases …":
`assistant.questions.listed_noun`) wants the list whose lead-in or heading names that, in either
language through the lexicon (cases: ケース): its items gain ``LISTED_BONUS``. "List the cases in
which a virtual machine should be chosen." was answered with the machine's features, a list about
the same thing whose items share more of the question's words. What a question names may also
stand in the folders its document is filed under (``kubevirt-user-guide/…``: a guide names its
product in its path, not on every page). A measure question's bonus for a sentence needs a
quantity in it (a number, 数秒, 分単位), not a bracket (「（ローカルPC）」). On the development
sets: seed (grown to 96 questions) 0.917 → 0.927, related 0.926 → 0.944 ("What is the minimum
Kubernetes version needed to use hugepages with KubeVirt?"), corpus unchanged at 0.975; the
JSQuAD and SQuAD development halves unchanged.

For a why question, a sentence that points back and gives a reason ("This is because …",
「これは、…ためです」) states it whatever words it adds: its antecedent's words count as its
own, so "Why does Podman on macOS and Windows need a virtual machine?" is answered with the
reason, not with the sentence before it that only says it needs one (`compose` quotes the two
together). Related development split (grown to 78) 0.910 → 0.923, one question; the seed and corpus splits
and the JSQuAD and SQuAD development halves unchanged.

The embedding model scores a text in the question's language higher than the same text
translated: on ten sentences written in both languages for this purpose, an English question
scored the English sentence 0.055 above its Japanese translation on average, a Japanese
question the Japanese one 0.093 above. Over documents in both languages a Japanese sentence
that answered an English question lost to English ones about something else ("What are the
main benefits of …" drew a table of process counts). A unit in the other language gets
``CROSS_DENSE`` added to its similarity, by the question's language (0.06 / 0.09, the measured
gaps rounded). On the related development split (grown to 102) 0.03, 0.06 and 0.1 gave the
same pass rate (0.882 → 0.892, one question); the seed split (one language) and our corpus's
unchanged. Shifting the dense side of retrieval the same way was tried and dropped: our corpus's
development split gained a question, the related one lost a near-topic probe.

A fact belongs to the section it stands in. When a retrieved section is about a thing the
question names (its heading or its document's title: "gVisor"), a fact stated in a section named
after something else ("Firecracker": 「…125 ミリ秒程度」) is not the asked thing's, unless the unit
names it itself; a section whose heading names nothing (「起動時間の内訳」) may speak of anything
(`_owned`: for the asks above and for the quantity that follows a measure answer). 「gVisorの起動は
何ミリ秒ですか？」 over our corpus was answered with Firecracker's start-up time; it and its English
twin are now near-topic probes of our corpus's development split, with Firecracker's own question
beside them. A capital inside a word names something (gVisor, macOS:
`assistant.relevance.question_names`), else the English probe named nothing. The seed and related
development splits and SQuAD's development half unchanged; with the follower of
`assistant.answerers.compose`, JSQuAD's development half 0.904 → 0.907 (hit@1 unchanged).

A question for a length of time (何秒・何時間 / "how many minutes", the ``duration`` ask of
`assistant.questions`) is answered only by a unit holding one, and a question for a bound
("the maximum number of …", 上限は何GB) only by a unit that states a bound (最大・まで・
以下 / "up to", "at most": `assistant.questions.BOUND_STATED`): "one layer is added" is no
maximum number of layers. Related development split: one near-topic probe more refused (何秒);
the bound kept our corpus's probe refused after the cross-language offset above brought a
Japanese sentence with 「1枚」 among the best three.

A definition question asked within a frame (「マルチテナンシーでいうテナントとは」) leaves the
frame's words out of the coverage, like a measure question's frame: a sentence about the frame
(「…SaaSがマルチテナントであることは…マルチテナンシーを特徴づける」) shares more of the question's
words than the term's definition does (related development split, grown to 118: one question).

A which-question over a table of marks (✅ / ❌, ○ / ×: a support matrix) is answered by a
row marked yes: a cell marked no loses ``MARK_PENALTY`` (a cell marked yes, when the question
asks for a lack: "Which kettle does not keep water warm?", 「保温できないのはどれ」), so "Which
kettle has a timer?" no longer names the kettle without one. A yes / no question about one
row still gets its mark, whichever it is. (Hand-made tables in the tests; the development
sets have no such question, and their figures are unchanged.)

A Japanese question that names the kind of thing it asks for by a noun (「…現れるのは何気団か」,
「…を提唱した説は？」: `assistant.questions.asked_noun`) is answered by a compound of that noun the
question does not hold (揚子江気団・化学進化説): a unit with one gets ``NOUN_BONUS``, and when the
best sentence has none, the sentence after it that has one follows it (`compose`). On the JSQuAD
development half, the answerer replayed over the stored passages: 0.8974 → 0.9028 (the bonus alone
0.8984); when no sentence after it has one but the document's title does, by the noun's last kanji
too (「…唯一の国政政党は？」 over 「…唯一の党である。」 in 日本共産党), the title leads: 0.9055 (eight
gained, none lost; seven of them over that one article). The seed, related and corpus development
splits unchanged. The noun is not a word list: it is whatever noun stands after 何 or before the
final 「は？」. Matching a unit's compound on the noun's last kanji too (放送局: 福岡本局), as the title
does, was tried and dropped: 0.9055 → 0.9038.

Weights were set on the hand-made documents in ``tests/data/docs``
(``dev_questions.jsonl``) and checked on the development split of the seed set
(``evals/datasets/dev/seed_qa.jsonl``: the list bonus was halved and the list shape
now needs a list item ranked first, after 「どんなものがありますか」 questions picked
the wrong list); never on the test split. A penalty for units without a number for
how-long questions was tried and dropped: no change on the development splits, and it
demoted qualitative table cells (「長い」) in the hand-made documents. An ask (a year, a
version …) is answered only by a unit whose passage also names what the question names
(`assistant.relevance.question_names`): on the development split of our corpus this
raised refusal recall from 0.25 to 0.50 with no new false refusal.
``NAMED_BONUS`` and ``RESTATES`` were chosen on the development halves of JSQuAD (400
questions) and SQuAD (300; `benchmarks/public_eval.py --split dev`): answer-contains-gold
0.840 → 0.863 and 0.733 → 0.750, with the seed, related and corpus development splits
unchanged.
"""

from __future__ import annotations

import itertools
import math
import re
import threading
from collections import OrderedDict
from collections.abc import Iterator, Sequence

import numpy as np

from assistant.answerers.compose import CLOSE, REASON, TRANSLATION_NOTE, compose, label_key
from assistant.embedders import Embedder
from assistant.lexical import default_tokenizer, groups_of, match
from assistant.lexicon import bridge_keys, make_lexicon
from assistant.questions import (
    BOUND_STATED,
    DEFAULT,
    MEASURE,
    Question,
    analyse,
    count_owners,
    counted_noun,
    default_of,
    fact_owners,
    fills_noun,
    holds_measure,
    listed_noun,
    measure_dimension,
    term_frame,
)
from assistant.relevance import asked_predicate, asked_subject, dates_subject, general_terms, question_names
from assistant.settings import Settings
from assistant.types import Note, Passage
from assistant.units import Unit, is_lead_in, passage_units, plain_heading, subject_of

CACHE_SIZE = 5000  # unit vectors kept between questions
W_DENSE = 0.5
W_COVERAGE = 0.5
PRIOR = 0.015  # per rank of the passage
BONUS = 0.06
META_PENALTY = 0.08
OWN_SHARE = 0.5  # of coverage that must come from the unit's own words
NAMED_BONUS = 0.12  # who / where: the unit names something the question does not
COLUMN_PENALTY = 0.06  # a cell of another column than the one the question names
LITERAL_BONUS = 0.12  # a file, option or field question: a unit with a path, --flag or key
CODE_PENALTY = 0.12  # a code block, for a question that asks for no command, file, option, field or way
LISTED_BONUS = 0.06  # a list question: an item of the list whose lead-in or heading names what is listed
MEASURE_REACH = 0.25  # a measure question: how far behind the best a unit with a quantity may follow
MEASURE_BONUS = 0.12  # a measure question: a cell with its value (half for other units)
MARK_PENALTY = 0.12  # a which-question: a table cell marked no (❌, ×), or yes when it asks for a lack
NOUN_BONUS = 0.06  # a unit with a compound of the noun asked for (揚子江気団 for 「…は何気団か」)
RESTATES = 2  # a sentence with at most this many words beyond the question's restates it
# added to the similarity of a unit in the other language than the question's, by the question's
# language (see `cross_language_offsets`)
CROSS_DENSE = {"en": 0.06, "ja": 0.09}

_JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]")
# a table cell that says no or yes (a mark, or the word), and a question that asks for a lack
NO_MARK = re.compile(r"[❌✖✗✘×❎✕]\ufe0f?|no|none|非対応|未対応|なし|無し|不可|-|–|—", re.I)
YES_MARK = re.compile(r"[✅✔✓☑○◯◎]\ufe0f?|yes|対応|あり|有り|可", re.I)
NEGATED = re.compile(
    r"\b(?:not|no|never|without|lacks?|unsupported)\b|n't\b|ない|ません|非対応|未対応|できない|不可|なし|無し",
    re.I,
)
_META = re.compile(
    r"(?:違い|差|相違|特徴|メリット|利点|重要性?)(?:が|は)(?:あり|ある|存在)|異なります|重要です|"
    r"\b(?:differ|differences?|important|matters?)\b",
    re.IGNORECASE,
)
_CONTRAST = re.compile(r"(?:が|けれど(?:も)?|ものの)、|\b(?:but|while|whereas|although)\b", re.IGNORECASE)
_VALUE = re.compile(r"[0-9０-９]|数(?:秒|分|時間|日|[KMGT]B|十|百|千|万)|[（(][^）)]{1,30}[）)]")
# a quantity in a sentence: a number, or 数秒・分単位 … (a bracket alone, 「（ローカルPC）」, is none)
_QUANTITY = re.compile(
    r"[0-9０-９]|数(?:秒|分|時間|日|[KMGT]B|十|百|千|万)|(?:秒|分|時間|日|週|月|年)単位|"
    r"[一二三四五六七八九十百千万]+(?:秒|分|時間|日|倍|割|人|個|台|回|年)"
)


class ExtractiveAnswerer:
    name = "extractive"

    def __init__(
        self, model: str = "", *, settings: Settings, embedder: Embedder, cache_size: int = CACHE_SIZE
    ) -> None:
        self._cache_size = cache_size
        self._settings = settings
        self._embedder = embedder
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_lock = threading.Lock()

    def stream(self, question: str, passages: Sequence[Passage], language: str) -> Iterator[str | Note]:
        asked = analyse(question)
        units, ranked = self.rank(question, passages, asked)
        if not ranked:
            return
        beside: Unit | None = None
        if asked.ask or asked.default:
            stating = [u for u in ranked[:3] if self._states(asked, u, passages, question)]
            if not stating:
                return  # the specific fact asked for is not in the evidence
            # those that state it and score close to the best lead (a year of the thing named)
            lead = [u for u in stating if u.score >= ranked[0].score - CLOSE]
            if not lead and asked.kind == "value":
                # the best unit does not state it and none that does is close: the best
                # stays first and the closest that states it follows
                beside = stating[0]
            ranked = lead + [u for u in ranked if all(u is not s for s in lead)]
        elif asked.measure and asked.kind == "value":
            # 「VMの起動にはどのくらい時間がかかりますか？」: when the best unit gives no quantity of
            # the time asked about (「VM の起動時間が加わります」), the best that does follows it
            dimension = measure_dimension(question)
            if dimension and not holds_measure(dimension, ranked[0].reader_text):
                beside = next(
                    (
                        u
                        for u in ranked[1:]
                        if u.score >= ranked[0].score - MEASURE_REACH
                        and holds_measure(dimension, u.reader_text)
                        and _owned(question, u, passages)
                    ),
                    None,
                )
        evidence = "ja" if _JAPANESE.search(ranked[0].reader_text) else "en"
        frame = language if language != evidence else ""
        yield from compose(asked, ranked, units, frame, beside)
        if frame:
            yield Note(TRANSLATION_NOTE.get(frame, TRANSLATION_NOTE["en"]))

    def _states(self, asked: Question, unit: Unit, passages: Sequence[Passage], question: str) -> bool:
        """Does the unit state a fact of the asked shape about what the question names?
        (「Podmanの1.0は何年？」 is not answered by a year of another product's 1.0.) A question
        about a default needs a unit that speaks of one, in itself or in its heading or lead-in."""
        if unit.kind == "code" and not asked.wants_code():
            return False  # a version in a console's output is not a statement
        if asked.default and not DEFAULT.search(unit.match_text):
            return False
        if asked.ask and not asked.holds(unit.reader_text):
            return False
        if asked.bound and not BOUND_STATED.search(unit.match_text):
            return False  # "one layer is added" states no maximum number of layers
        p = passages[unit.passage - 1]
        tokenizer = default_tokenizer()
        if asked.ask == "version":
            # 「Windows 10 バージョン 2004」 is Windows' version, not the one a question about WSL2 asks for
            asked_terms = set(tokenizer.tokenize(question))
            owners = fact_owners(asked.ask, unit.reader_text)
            if not any(not owner or set(tokenizer.tokenize(owner)) & asked_terms for owner in owners):
                return False
        if asked.ask == "count" and not self._counts_the_thing(question, unit.reader_text):
            return False  # 「3つの仕様」 is not a count of layers
        if not _owned(question, unit, passages):
            return False  # 125 ms under the heading Firecracker is not gVisor's start-up time
        context = " ".join([p.title, *p.heading_path, p.text])
        present = set(tokenizer.tokenize(context))
        thing = set(tokenizer.tokenize(default_of(question))) - general_terms() if asked.default else set()
        same_language = bool(_JAPANESE.search(question)) == bool(_JAPANESE.search(p.text))
        # a stem may stand inside a key: "bandwidth" in bandwidthPerMigration
        if thing and same_language and not any(t in present or t in context.lower() for t in thing):
            return False  # a default of something else (「Default CRI socket」 for a restart policy)
        if not asked.ask:
            return True  # a default: its document may name the product outside this passage
        predicate = asked_predicate(question) if same_language else []
        if predicate:
            # 「…が公開されたのは何年」: the year must stand beside 公開 (or a synonym of it)
            terms = set(tokenizer.tokenize(unit.match_text))
            groups = groups_of(terms)
            dated = asked.ask == "date" and dates_subject(asked_subject(question), unit.reader_text)
            if not dated and not any(match(t, terms, groups) for t in predicate):
                return False  # 「1960年の第29回総選挙」 dates the election, whatever verb is asked
        missing = question_names(question) - present
        if missing:
            # the folders a document is filed under name what it is about (kubevirt-user-guide/…)
            missing -= set(tokenizer.tokenize(" ".join(re.split(r"[/\\_.-]+", p.source))))
        if missing:
            # a section cut into passages names its subject once: the other passages retrieved
            # from the same section of the same document count
            section = " ".join(
                q.text for q in passages if q.source == p.source and q.heading_path == p.heading_path
            )
            context = f"{context} {section}"
            missing -= set(tokenizer.tokenize(section))
        # An acronym of the question is named by its words spelled out ("US": United States),
        # a country by its people or language ("China": "25 million Chinese"), a name written
        # in pieces by the same name written as one ("micro VM": microVM), or the reverse.
        return all(
            _spelled_out(name, question, context)
            or _demonym(name, context)
            or _joined(name, question, context)
            for name in missing
        )

    def _counts_the_thing(self, question: str, text: str) -> bool:
        """Does a count of the text count what the question counts ("how many layers")? A
        count whose thing is not written after it may; across languages through the lexicon."""
        counted = counted_noun(question)
        owners = count_owners(text)
        if not counted or not owners or "" in owners:
            return True
        tokenizer = default_tokenizer()
        lexicon = make_lexicon(self._settings.lexicon)
        terms = {t for owner in owners for t in tokenizer.tokenize(owner)}
        bridge = bridge_keys(terms, lexicon)
        return any(match(t, terms, groups_of(terms), bridge, lexicon) for t in tokenizer.tokenize(counted))

    def select(self, question: str, passages: Sequence[Passage]) -> list[Unit]:
        """The ranked units (best first), for inspection and tests."""
        return self.rank(question, passages, analyse(question))[1]

    def rank(
        self, question: str, passages: Sequence[Passage], asked: Question
    ) -> tuple[list[Unit], list[Unit]]:
        units = [
            unit
            for number, passage in enumerate(passages, start=1)
            for unit in passage_units(passage.text, number, passage.heading_path, passage.title)
        ]
        if not units:
            return [], []
        tokenizer = default_tokenizer()
        query_terms = set(tokenizer.tokenize(question))
        unit_terms = [set(tokenizer.tokenize(u.match_text)) for u in units]
        own_terms = [set(tokenizer.tokenize(u.text)) for u in units]
        # A sentence that points back (これにより / This hypothesis) says what it says of its
        # antecedent: the two are one statement, quoted together, so the antecedent's words
        # count as its own when it adds a word of the question (the antecedent alone wins
        # otherwise). A lead-in ending in a colon ("Their defaults:") states nothing yet, and
        # one that says only that they differ (「どちらも…が、…に大きな違いがあります」) no value.
        stated_terms = []
        for u, own in zip(units, own_terms, strict=True):
            before = set(tokenizer.tokenize(u.antecedent)) if u.antecedent else set()
            adds = (own - before) & query_terms
            # a why question: the sentence that gives the reason of its antecedent ("This is
            # because …") states it, whatever words it adds
            gives_reason = asked.kind == "why" and bool(before) and bool(REASON.search(u.text))
            states = (adds or gives_reason) and not is_lead_in(u.text) and not _says_only_that(u.text)
            stated_terms.append(own | before if states else own)
        # A question word matches a unit's word or its synonym (SudachiDict's groups).
        lexicon = make_lexicon(self._settings.lexicon)
        unit_found = [
            {t: match(t, terms, groups_of(terms), bridge_keys(terms, lexicon), lexicon) for t in query_terms}
            for terms in unit_terms
        ]
        own_found = [
            {t: match(t, own, groups_of(own), bridge_keys(own, lexicon), lexicon) for t in query_terms}
            for own in stated_terms
        ]
        n = len(units)
        frame = _measure_frame(question) if asked.measure else set()
        if asked.ask == "date":
            frame |= set(tokenizer.tokenize(" ".join(m.group(1) for m in _DATE_NOUN.finditer(question))))
        if asked.kind == "definition":
            # 「マルチテナンシーでいうテナントとは」: the frame's words place the term, and a
            # sentence about the frame is no definition of the term
            frame |= set(tokenizer.tokenize(term_frame(question)))
        weight = {
            t: 0.0 if t in frame else math.log(1 + n / (1 + sum(found[t] > 0 for found in unit_found)))
            for t in query_terms
        }
        total = sum(weight.values()) or 1.0
        similarities = self._similarities(question, [u.match_text for u in units])
        similarities = similarities + cross_language_offsets(question, [u.text for u in units])
        asked_names = question_names(question) | query_terms if asked.named else set()
        for unit, found, found_own, own, similarity in zip(
            units, unit_found, own_found, own_terms, similarities, strict=True
        ):
            # The unit's own words count most; its context (headings, lead-in, antecedent) helps.
            in_context = sum(weight[t] * found[t] for t in query_terms) / total
            in_text = sum(weight[t] * found_own[t] for t in query_terms) / total
            coverage = OWN_SHARE * in_text + (1 - OWN_SHARE) * in_context
            unit.restates = unit.kind == "sentence" and len(own - query_terms) <= RESTATES < len(own)
            new_names = bool(question_names(unit.text) - asked_names) if asked.named else True
            unit.names_nothing = not new_names
            unit.subjectless = asked.named and unit.kind == "sentence" and _subjectless(unit.text)
            unit.fills = fills_noun(unit.text, asked.noun, question)
            unit.score = (
                W_DENSE * float(similarity)
                + W_COVERAGE * coverage
                + _shape_bonus(asked, unit)
                + (NAMED_BONUS if asked.named and new_names else 0.0)
                + (NOUN_BONUS if unit.fills else 0.0)
                - PRIOR * (unit.passage - 1)
            )
        # A list question that names what it lists (「…ケースは？」 / "List the cases …") wants the
        # list its lead-in or heading names so, in either language, over a list that shares
        # more of its other words.
        listed = set(tokenizer.tokenize(listed_noun(question))) if asked.kind == "list" else set()
        for unit in units:
            if listed and unit.kind == "item":
                where = set(tokenizer.tokenize(" ".join([unit.lead, unit.subject, *unit.context[-1:]])))
                bridge = bridge_keys(where, lexicon)
                if any(match(t, where, groups_of(where), bridge, lexicon) for t in listed):
                    unit.score += LISTED_BONUS
        # The rows a comparison names (「サイズと起動速度」 / "the size and boot speed"), each of
        # whose label's words the question has, or a translation of them.
        if asked.kind == "comparison":
            asked_groups = groups_of(query_terms)
            asked_bridge = bridge_keys(query_terms, lexicon)
            for unit in units:
                label = set(tokenizer.tokenize(unit.label)) if unit.kind == "row" else set()
                unit.asked_row = bool(label) and all(
                    match(t, query_terms, asked_groups, asked_bridge, lexicon) for t in label
                )
        # A question that names one column of a table (「cgroup v2 のとき」) is not answered
        # by the cell beside it, however many words that cell shares with the question.
        named = _columns_named(question, units)
        for unit in units:
            if unit.kind == "cell" and named.get(unit.group) and unit.subject not in named[unit.group]:
                unit.score -= COLUMN_PENALTY
        ranked = sorted(units, key=lambda u: -u.score)
        return units, ranked

    def _similarities(self, question: str, texts: list[str]) -> np.ndarray:
        """Cosine similarity of each unit to the question; unit vectors are cached (LRU)."""
        query = self._embedder.embed_query(question)
        found: dict[str, np.ndarray] = {}
        with self._cache_lock:
            for text in dict.fromkeys(texts):
                if text in self._cache:
                    self._cache.move_to_end(text)
                    found[text] = self._cache[text]
        missing = [t for t in dict.fromkeys(texts) if t not in found]
        if missing:
            vectors = self._embedder.embed_documents(missing)
            found.update(zip(missing, vectors, strict=True))
            with self._cache_lock:
                for text, vector in zip(missing, vectors, strict=True):
                    self._cache[text] = vector
                while len(self._cache) > self._cache_size:
                    self._cache.popitem(last=False)
        matrix = np.stack([found[t] for t in texts])
        return matrix @ query


# Verbs that only say a quantity is spent (「時間がかかる」 / "how long does it take").
_MEASURE_VERBS = frozenset({"掛かる", "要する", "take", "need", "last"})


def cross_language_offsets(question: str, texts: Sequence[str]) -> np.ndarray:
    """What to add to each text's similarity to the question: the embedding model scores a
    text in the question's own language higher than the same text translated, so over
    documents in both languages a Japanese sentence that answers an English question lost
    to English ones about something else ("What are the main benefits of …" was answered
    with a table of process counts)."""
    asked_in_japanese = bool(_JAPANESE.search(question))
    offset = CROSS_DENSE["ja" if asked_in_japanese else "en"]
    return np.array([offset if bool(_JAPANESE.search(t)) != asked_in_japanese else 0.0 for t in texts])


# The noun of an English date question's question word ("in what year", "which century"): it
# asks, as 何年 does, and "the years after" holds no more of the answer than any other sentence.
_DATE_NOUN = re.compile(r"\b(?:what|which)\s+(year|month|day|date|century|decade)\b", re.I)


def _measure_frame(question: str) -> set[str]:
    """The words of a measure question that only frame the quantity asked for: the measure
    phrase itself ("how long", どのくらい), general nouns of the dimension (時間, size) and
    verbs of spending (かかる, take). A unit that repeats them (「起動にも時間がかかります」)
    does not state the quantity; the cell 「低速（分単位）」 does."""
    tokenizer = default_tokenizer()
    match = MEASURE.search(question)
    phrase = set(tokenizer.tokenize(match.group(0))) if match else set()
    return phrase | (set(tokenizer.tokenize(question)) & (general_terms() | _MEASURE_VERBS))


def _owned(question: str, unit: Unit, passages: Sequence[Passage]) -> bool:
    """Is the unit's fact about what the question names? When a retrieved section is about a
    thing the question names (its heading, or its document's title: "gVisor"), a fact stated in
    a section named after something else ("Firecracker": 125 ms) belongs to that, unless the
    unit names the thing itself. A section whose heading names nothing (「起動時間の内訳」) may
    speak of anything."""
    names = question_names(question) - general_terms()
    if not names:
        return True
    tokenizer = default_tokenizer()
    headed = {n for p in passages for n in names & set(tokenizer.tokenize(_section(p)))}
    if not headed:
        return True
    section = _section(passages[unit.passage - 1])
    scope = " ".join([section, unit.subject, unit.lead, unit.reader_text])
    if headed & set(tokenizer.tokenize(scope)):
        return True
    asked = set(tokenizer.tokenize(question))
    return not any(
        t.isascii() and t.isalpha() and len(t) >= 3 for t in set(tokenizer.tokenize(section)) - asked
    )


def _section(passage: Passage) -> str:
    """What a passage's section is about: its subject heading, or its document's title."""
    return subject_of([plain_heading(h) for h in passage.heading_path]) or passage.title


def _spelled_out(name: str, question: str, text: str) -> bool:
    """Is ``name``, written in capitals in the question ("US", "EU"), spelled out in the text
    by capitalised words with those initials ("the United States", "European Union")?"""
    acronym = next((w for w in re.findall(r"\b[A-Z]{2,6}\b", question) if w.lower() == name), "")
    if not acronym:
        return False
    filler = r"(?:\s+(?:of|the|and|for|de|du|des|der|von)\b)*\s+"
    spelled = filler.join(rf"{letter}[\w'-]*" for letter in acronym)
    return bool(re.search(rf"\b{spelled}\b", text))


def _joined(name: str, question: str, text: str) -> bool:
    """Is ``name`` (a word of the question, as the tokenizer gives it) part of a name that the
    question and the text write differently, in pieces or as one: "micro VM" in the question
    and "microVM" in the text, "Hyper V" and "Hyper-V", or "microVM" and "micro VM"? Pieces are
    Latin words the question writes side by side; the text may join them with nothing, a
    space, a hyphen or an underscore."""
    tokenizer = default_tokenizer()
    gap = r"[\s_-]?"
    for run in re.findall(r"[A-Za-z0-9]+(?:[\s_-]+[A-Za-z0-9]+)*", question):
        pieces = re.split(r"[\s_-]+", run)
        for i, piece in enumerate(pieces):
            if name not in tokenizer.tokenize(piece):
                continue
            windows = [
                pieces[a:b]
                for a in range(max(0, i - 2), i + 1)
                for b in range(max(i + 1, a + 2), min(len(pieces), a + 3) + 1)
            ]
            if len(piece) >= 4:
                windows.append(list(piece))  # written as one in the question, in pieces in the text
            for window in windows:
                if _whole_word(gap.join(re.escape(w) for w in window)).search(text):
                    return True
    return False


def _whole_word(body: str) -> re.Pattern[str]:
    """``body`` as a whole word, whatever its case."""
    return re.compile(rf"(?<![A-Za-z0-9]){body}(?![A-Za-z0-9])", re.IGNORECASE)


def _demonym(name: str, text: str) -> bool:
    """Is the place ``name`` ("china", "japan", "italy") named in the text by its people or
    language ("Chinese", "Japanese", "Italian"): a capitalised word on its stem with a
    demonym's ending?"""
    if len(name) < 5 or not name.isascii() or not name.isalpha():
        return False
    stem = name[:-1]
    pattern = rf"\b{stem[0].upper()}{re.escape(stem[1:])}(?:[a-z]{{0,2}}(?:ese|ians?|ans?|ish|is?))?\b"
    return bool(re.search(pattern, text))


def _subjectless(text: str) -> bool:
    """A Japanese sentence with no topic (は・も after a noun) or whose subject is the document's
    (同社・同党 …): in a document, its unsaid subject is what the document is about
    (「…兵庫県で最も面積が大きい市である。」). 「…損なうときは」「東京には」 set a time or a place,
    not a subject."""
    if not _JAPANESE.search(text):
        return False
    if _SAME_SUBJECT.search(text):
        return True
    morphemes = list(default_tokenizer().morphemes(text))
    for before, m in itertools.pairwise(morphemes):
        if m.part_of_speech()[1] != "係助詞" or m.surface() not in {"は", "も"}:
            continue
        pos = before.part_of_speech()
        if (pos[0] in {"名詞", "代名詞", "接尾辞"} and pos[2] != "副詞可能") or pos[0] == "補助記号":
            return False
    return True


# 「同社が…」「同党は…」: the company, the party … the document is about
_SAME_SUBJECT = re.compile(
    r"同(?:社|党|国|氏|市|町|村|県|州|局|校|大学|誌|紙|団体|チーム|グループ|バンド|駅|島|寺|協会|機構|政府|軍|作品|家)"
    r"(?:は|が|の|も)"
)


def _columns_named(question: str, units: Sequence[Unit]) -> dict[str, set[str]]:
    """For each table, the column headers the question names (「cgroup v2 を使っているとき」)."""
    asked = label_key(question)
    columns: dict[str, set[str]] = {}
    for unit in units:
        if unit.kind == "cell" and unit.subject:
            columns.setdefault(unit.group, set())
            key = label_key(unit.subject)
            if len(key) >= 2 and key in asked:
                columns[unit.group].add(unit.subject)
    return columns


def _says_only_that(text: str) -> bool:
    """Does the sentence say that something differs, matters or exists, with no value, even
    after a clause that states something else?"""
    return bool(_META.search(text)) and not _VALUE.search(text)


def is_meta(text: str) -> bool:
    """Does the sentence only say that something differs, matters or exists? Not when it
    gives a value, nor when a clause before a contrast (…が、/ but …) states something."""
    meta = _META.search(text)
    if not meta or _VALUE.search(text):
        return False
    return not _CONTRAST.search(text[: meta.start()])


def _shape_bonus(asked: Question, unit: Unit) -> float:
    """What the question type prefers, and the penalty for saying only that something differs."""
    if unit.kind == "code":
        # a command or a file answers a question that asks for one or how to do something
        if asked.literal:
            return LITERAL_BONUS
        return 0.0 if asked.wants_code() else -CODE_PENALTY
    text = unit.reader_text
    bonus = 0.0
    if is_meta(unit.text) and unit.kind == "sentence":
        bonus -= META_PENALTY * (2 if asked.kind == "comparison" else 1)
    if len(unit.text) < 8:
        bonus -= BONUS / 2
    kind = asked.kind
    if kind == "value" and not asked.measure:
        if unit.kind == "cell" or (unit.kind != "row" and _VALUE.search(text)):
            bonus += BONUS / 2
        if unit.kind == "row":
            bonus -= BONUS / 2
    elif kind == "comparison":
        if unit.kind == "row":
            bonus += BONUS
        elif unit.kind == "cell":
            bonus -= BONUS / 2
    elif kind == "list":
        if unit.kind == "item":
            bonus += BONUS / 2
    elif kind in {"why", "how"}:
        if REASON.search(text):
            bonus += BONUS
        if unit.kind in {"cell", "row"}:
            bonus -= BONUS
    elif kind == "definition":
        term = asked.term
        if term and re.match(
            rf"\s*{re.escape(term)}\s*(?:\([^)]*\)|（[^）]*）)?\s*(?:とは|は|:|：|is\b|are\b|refers)",
            text,
            re.I,
        ):
            bonus += 2 * BONUS
        if unit.kind in {"cell", "row"}:
            bonus -= BONUS
    elif kind == "which" and unit.kind == "cell":
        # 「タイマーがあるのはどれ？」 / "Which kettle has a timer?" over a table of marks: a cell
        # marked no (❌, ×) says the row lacks what is asked, unless the question asks for a lack
        mark = YES_MARK if NEGATED.search(asked.text) else NO_MARK
        bonus += -MARK_PENALTY if mark.fullmatch(unit.value.strip()) else BONUS / 2
    if asked.measure and unit.kind == "cell" and _VALUE.search(unit.text):
        bonus += MEASURE_BONUS
    elif asked.measure and unit.kind not in {"row", "cell"} and _QUANTITY.search(unit.text):
        bonus += MEASURE_BONUS / 2
    if asked.ask and asked.holds(text):
        bonus += BONUS
    if asked.has_literal(text):
        bonus += LITERAL_BONUS
    return bonus
