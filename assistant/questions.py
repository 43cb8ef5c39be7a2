"""What a question asks for: its type, the things it names, and the kind of fact it wants.

Types (each has an answer shape in `assistant.answerers.compose`):

- ``comparison`` (違い・比較・〜と〜・differ/compare/vs): both sides, with values;
- ``which`` (どちら・どっち・which): the entity first, then the evidence;
- ``list`` (ケース・例・特徴・方法・what are …): every item of the list, up to a cap;
- ``why`` / ``how`` (なぜ・理由・どのように / why, how does): the reason with its antecedent;
- ``definition`` (〜とは・what is X): the defining sentence;
- ``value`` (everything else): the cell or sentence with the value, subject named.

The *ask* is the kind of fact wanted when it has a recognisable shape (a price, a
date, a version, an organisation, a port, a size in bytes, a count, a quantity in a
unit the question names: 「何ワット」); an answer must then contain a fact of that
shape. A count is a number standing alone, not a digit inside a name ("K8s", "2.x").

The patterns are question words of each language, never words of a corpus; they
were written against hand-made documents (tests/data/docs) and checked on the
development split of the seed set (JSQuAD was not used for calibration). The unit
ask, the count shape and 「どのリリース」 as a version were added after near-topic
questions of the seed, related and corpus development splits were answered (refusal
recall 0.958 → 1.0, 0.75 → 0.875, 0.5 → 0.625); the JSQuAD and SQuAD development halves
were unchanged (0.863, 0.780).

From the SQuAD and JSQuAD development halves: a year before 1800 counts as a date after a
preposition ("in 1489", "the end of 1350", "200 BC"; a bare 1024 may be a size), 「2月8日」 counts
as one, 「…が廃止されたのはいつか」 (いつ of something that happened: past tense, like
"when did") asks for one while 「いつ使うべき」 (a situation) does not, and a fee is asked
for by a question word, not by "how do the fees … compare".

An ask is the thing asked for, not a word of the question's body: 「予定価格の何割」 asks
for no price, 「1980年代に…」 for no date, 「党組織は、…」 for no organisation, "the
initial version of …" for no version, "release cytokines" for no release; 何年以上・何年ぶり
ask for a duration, 「いくつかの」 for nothing, and 「…はいくらか」 without a word of money for
an amount (a number, not necessarily money); with a word of paying before it (「有料プランは月額
いくら」) it asks for money. A counter may be written several ways
(10カ所 for 何か所) and a quantity may carry a multiplier (250万トン). Counted over every
question of the JSQuAD development half that has an ask, the sentence holding the gold
answer had a fact of the asked shape in 400 of 456 (organisation 2 of 30, price 15 of 24)
before and in 380 of 399 after (organisation 6 of 17, price 1 of 2); on SQuAD's, 584 of 666
before and 604 of 632 after. Questions whose fact has no recognisable shape are still
refused wrongly when they have an ask (an organisation named without 株式会社 or a
suffix such as 協会・委員会: ハイネケン); an ask is a promise about the answer's shape.
Through the pipeline, with question words left out of relevance's coverage
(`assistant.relevance`) and 何市・何語 as who / where: JSQuAD development half 0.890 →
0.907, SQuAD's 0.783 → 0.790, no question lost; the seed, related and corpus development
splits unchanged (their near-topic probes are still refused).

A fact of the asked shape must be the one asked about. A count is not a year (2017年) nor a
version (1.0; a decimal counts with a multiplier: 2.5 million); an amount of memory or
storage asked with どれくらい is a size in bytes; a version belongs to the name written just
before it in its clause (`fact_owners`: 「Windows 10 バージョン 2004」 does not answer a
question about WSL2's kernel). A question about a default (``DEFAULT``: "the default …",
既定値) needs a text that says what the default is. Found on near-topic questions of the
development splits (our corpus's refusal recall 0.625 → 0.875 with the first three, the
seed's and related's 0.941 → 0.971 and 0.875 → 1.0 with the default); no answerable
development question lost, the JSQuAD and SQuAD development halves unchanged.

A length of time is asked for by 何秒・何分・何時間・何日間 … / "how many minutes" (``duration``;
its shape: a number and a unit of time, 数秒, 分単位), not by 何分の一 (a fraction); 「料金は、何に
応じて…」 asks what a fee depends on, not for an amount. With a count, a size or a length of time,
「最大・上限」 / "maximum", "at most" asks for a bound (``BOUND``): the text must state one
(``BOUND_STATED``). Found on the related development split (grown to 102): a near-topic 何秒
probe refused and a question about how fees are charged answered; our corpus's probe "the
maximum number of layers" stays refused; the seed split and the JSQuAD development half unchanged.
A number that is part of a name ("Microsoft Office 365", "Windows 10") counts nothing (「Google Mail
は何人のテナントに…」 was answered by a list of products), and a definition question's term is read
out of the frame it is asked in (「マルチテナンシーでいうテナントとは」 defines テナント, `term_frame`);
on the related development split (grown to 118) one question each.

A member or a bound is not a count: 「…の実装の１つ」「一つ以上の」 / "one of", "one or more"
(`_NOT_A_COUNT`; 「…最大ノード数は何台」 was answered because a sentence about another
component was "one of" the implementations; related development split's refusal recall
0.875 → 1.0, nothing else changed on the development sets).

Evaluative nouns ask for a list (弱点・難点・強み / weaknesses, limitations), as 欠点 and
"drawbacks" already did: 「コンテナの弱点は何ですか？」 wants every listed property, not the
definition sentence it was taken for (「…は何ですか」).

Questions for a name of a kind (何市・何語・何党 …) are who / where questions
(`assistant.answerers.extractive`: a unit naming something new is preferred, and a
sentence without a subject is led by its document's title).

So are questions that ask who or what did something with no question word: a cleft
(「…を発表したのは？」), a noun after a clause (「…談合を認めたゼネコンは」: a verb or an adjective
just before the final noun) and 「…は何と呼ばれますか」. 「どの企業の…」 asks for an organisation
as "which company" does (a near-topic probe of the related development split, 「…最初に実装
したのはどの企業のエンジニア」, was answered with the page's definition). What an English count
question counts ("how many layers") must be what the count in the evidence counts
(`counted_noun`, `count_owners`; see `assistant.answerers.extractive`).

A question about a file, an option or a field (どのファイル・オプション・フィールド / which
file, option, field) wants a *literal*: a path, a ``--flag``, a camelCase key. It is a
preference, not an ask: a file may be named without a path ("the Dockerfile"), so its
absence refuses nothing. Added after such questions of our corpus's development split
quoted the sentence around the literal (see `assistant.answerers.extractive`).
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from typing import Any

from assistant.lexical import default_tokenizer
from assistant.text import COMPOUND, KANJI, has_japanese

_COMPARISON = re.compile(
    r"違い|違う|異な|比較|比べ|差は|差異|相違|対比|\bdiffer|\bcompar|\bvs\.?\b|\bversus\b|\bdistinguish",
    re.IGNORECASE,
)
_WHICH = re.compile(
    r"どちら(?!も)|どっち(?!も)|いずれ|どれ(?!くらい|ぐらい|ほど)|\bwhich\b|\bwhether\b", re.IGNORECASE
)
# "in which", "for which" … introduce a relative clause, not a which-question.
_RELATIVE = re.compile(r"\b(?:in|of|for|by|to|on|at|from|with|under|during|through) which\b", re.I)
_LIST = re.compile(
    r"ケース|場合は|例[はをにとを]|例を|具体例|特徴|方法|手段|種類|一覧|挙げ|利点|欠点|メリット|デメリット|"
    r"長所|短所|強み|弱み|弱点|難点|問題点|用途|条件|要件|ステップ|手順|ポイント|何がある|どんな.*(?:ある|あります)|"
    r"\bwhat are\b|\blist\b|\bexamples?\b|\bcases\b|\bfeatures\b|\bways\b|\bkinds\b|\btypes\b|"
    r"\b(?:dis)?advantages\b|\bbenefits\b|\bdrawbacks\b|\bdownsides\b|\bweaknesses\b|\bstrengths\b|"
    r"\blimitations\b|\bsteps\b|\bwhen should\b",
    re.IGNORECASE,
)
# List words that name no kind of thing listed: a request, a question word, a verb.
_LIST_REQUEST = re.compile(
    r"挙げ|何がある|どんな|場合は|\bwhat are\b|\blist\b|\bwhen should\b", re.IGNORECASE
)


def listed_noun(question: str) -> str:
    """The noun that names what a list question lists (「…を選ぶべきケースは？」: ケース; "List the
    cases …": cases), or "" when it names none ("What are …", 「…にはどんなものがありますか」)."""
    for found in _LIST.finditer(question):
        if not _LIST_REQUEST.match(found.group(0)):
            return re.sub(r"[はをにと]$", "", found.group(0))
    return ""


def asked_noun(question: str) -> str:
    """The noun by which a Japanese question names the kind of thing it asks for: 「…は何気団か」
    → 気団, 「…を提唱した説は？」 → 説, 「…は何州？」 → 州; "" when it names none. The answer is
    then often a compound of that noun the question does not hold (揚子江気団・化学進化説), see
    `fills_noun`. Counters (何年・何人) are asks (`ASKS`), and a noun written in kana only
    (もの・こと) names no kind."""
    q = re.sub(r"[？?。\s]+$", "", question)
    if not has_japanese(q):
        return ""
    kind = _WHAT_KIND.search(q)
    if kind:
        return kind.group(1)
    end = _ASKED_AT_END.search(q)
    head = list(default_tokenizer().morphemes(q[: end.start()])) if end else []
    noun = str(head[-1].surface()) if head and _kind_noun(head[-1]) else ""
    return noun if re.fullmatch(f"[{COMPOUND}]+", noun) else ""


def fills_noun(text: str, noun: str, question: str, head: bool = False) -> bool:
    """Does the text hold a compound of the asked noun that the question does not (揚子江気団 for
    「シベリア気団の…後、現れるのは何気団か」)? ``head``: a compound of the noun's last kanji
    counts too (政党: 日本共産党)."""
    if not noun:
        return False
    if head and len(noun) > 1 and re.fullmatch(f"[{KANJI}]", noun[-1]):
        return fills_noun(text, noun, question) or fills_noun(text, noun[-1], question)
    letter = f"[{COMPOUND}A-Za-z0-9]"
    for found in re.finditer(f"{letter}+?{re.escape(noun)}", text):
        start = found.start()
        while start > 0 and re.match(letter, text[start - 1]):
            start -= 1
        if text[start : found.end()] not in question:
            return True
    return False


def _kind_noun(morpheme: Any) -> bool:
    """A common noun that can name a kind (not a counter, a numeral or a pronoun)."""
    pos = morpheme.part_of_speech()
    return pos[0] == "名詞" and pos[1] == "普通名詞" and pos[2] != "助数詞可能"


# 「何気団」「何実験」: 何 before a noun (何故・何処・何時 are question words; counters are asks)
_WHAT_KIND = re.compile(f"(?:何|なに|なん)(?![故処時])([{COMPOUND}]+)")
# 「…説は？」「…説とは何か」「…は誰」: where the noun of the thing asked for ends
_ASKED_AT_END = re.compile(r"(?:は|とは)(?:何|なに|なん|誰|だれ|どこ)?(?:か|ですか|でしょうか|でしたか)?$")


_WHY = re.compile(r"なぜ|何故|どうして|理由|原因|\bwhy\b|\breason|\bcause", re.IGNORECASE)
_HOW = re.compile(
    r"どのように|どうやって|どう(?:すれば|やれば)|仕組み|\bhow (?:do|does|is|are|can|to)\b", re.IGNORECASE
)
_DEFINITION = re.compile(
    r"(?P<ja>.+?)(?:とは|って)(?:何|なに|なん)?(?:です|でしょう)?か?[？?]?$|"
    r"(?P<ja2>.+?)は(?:何|なに|なん)(?:です|でしょう)か?[？?]?$|"
    r"^(?:what|who)(?: is|'s| are) (?:a |an |the )?(?P<en>[^?]+?)\??$|^define (?P<en2>[^?]+?)\??$|"
    r"^(?:what does|what do) (?P<en3>.+?) mean\??$",
    re.IGNORECASE,
)
# the frame a term is asked in: 「…でいう」「…における」「…の文脈での」
_FRAME_OF_TERM = re.compile(r"^.+?(?:でいう|で言う|における|においての|の文脈での|の分野での)")
# Two things named side by side: 「AとBの…」「AとBでは」, "A and B", "A or B", "A vs B".
_PAIR_JA = re.compile(
    r"(?P<a>[^、。？?とはをがの]{1,24})と(?P<b>[^、。？?とはをがの]{1,24})(?:の|で|は|を|、|では|に)"
)
_PAIR_EN = re.compile(
    r"(?:between |of |do |are |is )?(?P<a>[\w .+#-]{1,30}?)\s+(?:and|or|vs\.?|versus)\s+(?P<b>[\w .+#-]{1,30}?)"
    r"(?=\s+(?:differ|compare|in|for|at|on|when|with)\b|\?|$|,)",
    re.IGNORECASE,
)
MEASURE = re.compile(
    r"どのくらい|どれくらい|どのぐらい|どれぐらい|どれほど|何分|何秒|何時間|何度|何倍|"
    r"\bhow (?:long|much|many|big|large|fast|far|often|heavy|hot|warm)\b",
    re.IGNORECASE,
)
# The dimension a measure question asks in, named by its words (「…時間がかかりますか」, 「どのくら
# いの大きさ」, "how long does …"), and the quantities of it a text may hold (数十秒〜数分・分単位,
# 40日間, 数GB, 500 MB). Units of measure only: a year (2015年) or a day of a month (3月11日) is a
# date, not a duration.
_AMOUNT = r"(?:[0-9０-９][0-9０-９,.]*|数十|数百|数千|十数|数)\s*"
# and in English words: "tens of seconds", "a few minutes", "two weeks", "hundreds of megabytes"
_AMOUNT_EN = (
    r"\b(?:[0-9][0-9,.]*|a few|a couple of|several|many|(?:tens|dozens|hundreds|thousands) of|an?|one|two|"
    r"three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|forty|fifty|sixty|"
    r"hundred)[\s-]*"
)
DIMENSIONS = {
    "time": (
        re.compile(
            r"時間|期間|何秒|何分|何時間|何日|何か月|何ヶ月|何週|\bhow much time\b|"
            r"\bhow many (?:seconds|minutes|hours|days|weeks|months|years)\b|"
            r"\bhow long (?:does|did|do|will|would|can|could|has|have|had|should)\b",
            re.IGNORECASE,
        ),
        re.compile(
            rf"{_AMOUNT}(?:ミリ秒|マイクロ秒|秒|分(?:間|程度|ほど|以上|以内|〜|から|-)?(?![の野類散析割岐離解子布])|"
            rf"時間|週間|か月|ヶ月|カ月|年間)|(?<![0-9０-９月])[0-9０-９]{{1,3}}日(?:間)?(?![本曜])|数日|"
            rf"(?:秒|分|時間|日)単位|\b[0-9][0-9,.]*\s*(?:ms|secs?|mins?)\b|{_AMOUNT_EN}(?:(?:milli|micro)?seconds?|"
            r"minutes?|hours?|days?|weeks?|months?|years)\b|\bsub-?second\b",
            re.IGNORECASE,
        ),
    ),
    "size": (
        re.compile(r"大きさ|サイズ|容量|\bhow (?:big|large)\b|\bsize\b", re.IGNORECASE),
        re.compile(
            rf"{_AMOUNT}(?:[KMGTP]i?B\b|キロバイト|メガバイト|ギガバイト|テラバイト|バイト)|"
            rf"\b[0-9][0-9,.]*\s*(?:[KMGTP]i?B|bytes?)\b|{_AMOUNT_EN}bytes\b|\b(?:kilo|mega|giga|tera)bytes\b",
            re.IGNORECASE,
        ),
    ),
}


def measure_dimension(question: str) -> str:
    """The dimension a measure question asks in (``time``, ``size``), or ""."""
    if not MEASURE.search(question):
        return ""
    return next((name for name, (asks, _) in DIMENSIONS.items() if asks.search(question)), "")


def holds_measure(dimension: str, text: str) -> bool:
    """Does the text hold a quantity of the dimension (数十秒〜数分 of time, 数GB of size)?"""
    return bool(dimension) and bool(DIMENSIONS[dimension][1].search(text))


# Questions whose answer is a name (a person, a place, an organisation): 誰・どこ / who, where,
# "in what country" … An answer unit should then name something the question does not.
_NAMED = re.compile(
    r"誰|だれ|どなた|どこ|どの(?:国|都市|町|市|地域|場所|会社|企業|人物|団体)|何という|(?:何|なん)と(?:呼|称)|"
    # 何市・何語・何党 …: a name of that kind (「…最も面積が大きい市は何市か」)
    r"何(?:市|区|町|村|県|州|国|語|党|族|教|派|宗|線|駅|川|山|島|湖|大学|銀行)(?!間|目|回)|"
    r"\bwho(?:m|se)?\b|\bwhere\b|\b(?:what|which) (?:country|city|town|state|region|place|person|"
    r"company|organi[sz]ation|team|language|nationality|river|university|group|party|religion)\b",
    re.IGNORECASE,
)
_EN_LEAD = re.compile(
    r"^(?:what|how|which|why|when|where|who|does|do|is|are|can|the|a|an|between|of)\s+", re.I
)

# A question about a default ("the default restart policy", 既定値) is answered only by a
# text that says what the default is: a value of the same kind that is not the default
# (「on-failure[:max-retries]」 with no default given) does not answer it.
DEFAULT = re.compile(r"\bdefaults?\b|\bby default\b|デフォルト|既定|初期値|初期設定|標準(?:では|設定)", re.I)
# A question for a bound of a quantity ("the maximum number of …", 「上限は何GB」) is answered
# by a text that speaks of one: a count that is not a bound ("one layer is added") is not it.
_BOUND_JA = r"最大|最小|上限|下限|最多|最少"
_BOUND_EN = r"maximum|minimum|max|min|at most|at least"
BOUND = re.compile(rf"{_BOUND_JA}|\b(?:{_BOUND_EN}|limit)\b", re.I)
BOUND_STATED = re.compile(
    rf"{_BOUND_JA}|まで|以内|以下|以上|未満|を超え|"
    rf"\b(?:{_BOUND_EN}|limit(?:s|ed)?|up to|no more than|no fewer than|exceed\w*)\b",
    re.I,
)
# What the default is of: the words after "default" up to a preposition or verb ("the default
# restart policy of …"), the noun before 「の既定値」 or after 「既定の」.
_DEFAULT_OF = re.compile(
    r"\bdefault\s+(?P<en>(?:(?!(?:of|for|in|on|at|to|when|is|are|does|do|used|that|which)\b)[\w.-]+\s*){1,3})|"
    r"(?P<ja1>[^\s、。？?のはがを]{2,30})の(?:既定|デフォルト|初期)|(?:既定|デフォルト|初期)(?:値)?の(?P<ja2>[^\s、。？?のはがを]{2,30})",
    re.I,
)

# The kind of fact a question asks for, and the shape such a fact has in a text.
ASKS: dict[str, tuple[re.Pattern[str], re.Pattern[str]]] = {
    "price": (
        re.compile(
            # "cost" alone may ask how a cost behaves (「コストはどうなりますか」): an amount is
            # wanted only with a word that asks for one
            # 「料金は何に応じて…」 asks what the fee depends on, not for an amount
            r"(?:価格|値段|料金|ライセンス料)(?:は|って|を教え)(?![^？?。]*(?:何に|何で|何によ|なぜ|どう|どのよう))|何円|"
            r"(?:費用|コスト|価格|値段|料金)(?:は|が)?(?:いくら|どのくらい|どれくらい)|"
            # いくら with a word of paying before it (「有料プランは月額いくら」) asks for money
            r"(?:月額|年額|月々|有料|料金|費用|価格|値段|コスト|代金|購入|支払|ライセンス)[^？?。、]{0,15}?いくら(?!でも)|"
            # a fee is asked for by a question word, not by "how do the fees compare"; "how
            # much" asks for money only with a word of money ("how much is used" does not)
            r"\bwhat (?:is|was|are|were) the (?:\w+ )?(?:price|cost|fee)s?\b|"
            r"\bhow much\b[^?]{0,80}\b(?:cost|costs|pay|paid|charge[sd]?|spend|spent|worth)\b|"
            r"\b(?:what|which|how much)\b[^?]{0,30}\bfees?\b",
            re.I,
        ),
        re.compile(
            r"[0-9０-９][0-9,０-９.]*\s*[千万億兆]*\s*(?:円|ドル|ユーロ|ポンド)|[$¥€£]\s*[0-9]|無料|有料|\bfree\b|USD|JPY|EUR",
            re.I,
        ),
    ),
    "date": (
        re.compile(
            # いつ asks for a date when it asks when something happened (past tense, as
            # "when did" does), not when to do something (「いつ使うべき」: a situation)
            r"いつ(?:です|でした|でしょう|頃|ごろ|から|まで|に|リリース|発表|登場|開始|始ま|作られ|生まれ|誕生|発売|公開)|"
            r"いつ[^、。？?\s]{0,12}?た(?:か|の)?\s*[?？。]?\s*$|のはいつか|"
            # 何年 of a duration (何年間・何年以上・何年ぶり) asks for no date; 年代 of the
            # question's own words (「1980年代に…」) neither
            r"何年(?!間|以上|以下|ぶり|前|後|目|分|生|くらい|ほど|程度|も)|何月|何日(?!間)|日付|何年代|"
            # "date" as the noun asked for ("what date", "the release date"), not the verb
            # ("used to date rock formations")
            r"リリース日|\bwhen (?:was|were|did)\b|\bwhat year|\bwhich year|"
            r"\b(?:what|which|the|release|launch) date\b|\bdate (?:of|when)\b",
            re.I,
        ),
        re.compile(
            # a bare number is a year from 1800 on; an older one needs a preposition before it
            # ("in 1489", "the end of 1350"), so that 1024 of "1024 MB" is not taken for one
            r"[0-9０-９]{2,4}\s*年|[0-9０-９]{1,2}\s*月|[0-9０-９]{1,2}\s*日(?!間)|[0-9]{4}[-/][0-9]{1,2}|"
            r"\b(?:1[89]|20)[0-9]{2}\b|"
            r"\b(?:in|by|from|until|till|since|after|before|around|circa|c\.|of|to|during|between|throughout)\s+"
            r"[0-9]{3,4}\b(?!\s*[%.,]?[0-9])|"
            r"\b[0-9]{1,4}\s*(?:BC|BCE|AD|CE)\b|\bAD\s*[0-9]{1,4}\b|紀元前|"
            r"\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\b|明治|大正|昭和|平成|令和|世紀|"
            r"\b[0-9]{1,2}(?:st|nd|rd|th)(?: and [0-9]{1,2}(?:st|nd|rd|th))? centur(?:y|ies)\b|\b[0-9]{3,4}0s\b|"
            # "(1185–1226)": the years of a life; "3.5 billion years ago"
            r"\(\s*[0-9]{3,4}\s*[–-]\s*[0-9]{2,4}\s*\)|\byears ago\b",
            re.I,
        ),
    ),
    "version": (
        re.compile(
            r"バージョン(?:番号)?(?:は|を|が|って|です|でしょう|[？?]|$)|どの\S{0,12}バージョン|版は|何版|"
            r"どのリリース|リリース番号|"
            r"\b(?:which|what) (?:(?!(?:does|do|did|is|are|was|were|can|will|has|have|had)\b)[\w-]+ ){0,3}"
            r"(?:version|release)\b|\bversion (?:number|of \S+ (?:is|was))\b|"
            # "What is the latest version of …" (not "the release date", "the release notes")
            r"\bwhat(?:'s|\s+is|\s+was)\s+the\s+(?:\w+\s+){0,2}(?:version|release)\b"
            r"(?!\s+(?:date|notes?|cycle|schedule|process))",
            re.I,
        ),
        re.compile(r"\bv?[0-9]+\.[0-9]+(?:\.[0-9]+)?\b|バージョン\s*[0-9]|version\s*[0-9]", re.I),
    ),
    "organisation": (
        re.compile(
            # the noun asked for, with its particle: 「…企業はどこ」, not 「何の会社か」 (what kind)
            r"(?:企業|会社|メーカー|ベンダー|開発元|団体|組織)名?(?:は|が)(?:どこ|何|なに|なん|誰|だれ|どれ)?"
            r"(?:です|でしょう)?(?:か|の)?\s*[？?。]?\s*$|どこが(?:開発|提供|作|保守)|"
            r"どの(?:企業|会社|メーカー|ベンダー|団体|組織)|"
            r"\bwhich (?:company|vendor|organi[sz]ation|firm|foundation)|"
            r"\bwho (?:develops|developed|makes|made|maintains|created|owns|sells|builds)\b",
            re.I,
        ),
        re.compile(
            r"株式会社|有限会社|[^\s]{2,}社(?:[がはのにで、。]|$)|財団|"
            # the endings of organisations' names (農林中央金庫・国際協会・中央委員会 …)
            r"[^\s、。]{2,}(?:金庫|銀行|協会|機構|委員会|連盟|連合|評議会|協議会|組合|公社|学会|大学|研究所|"
            r"後援会|同盟|党|省|庁)(?:[がはのにでと、。）」]|$)|"
            r"\b(?:Inc|Corp|Corporation|LLC|Ltd|GmbH|Foundation|Company|Association|Institute|University|"
            r"Council|Agency|Committee|Commission|Society|Ministry|Bank|Party|Union)\b|"
            r"によって(?:開発|作|提供|保守)|が(?:開発|提供)(?:した|する|して)|"
            r"\b(?:developed|maintained|created|made|built|owned) by\b",
            re.I,
        ),
    ),
    "port": (
        re.compile(
            r"(?<![ァ-ヴー])ポート(?:番号)?(?:は|を|が)|\b(?:which|what|default) port\b|\bport number", re.I
        ),
        re.compile(
            r"(?:ポート|port)(?:番号)?\s*[:：は]?\s*[0-9]{2,5}|[0-9]{2,5}\s*番?(?:ポート|/tcp|/udp)|"
            r"\b[a-z0-9.-]+:[0-9]{2,5}\b",
            re.I,
        ),
    ),
    "size": (
        re.compile(
            r"何\s*(?:[KMGTP]i?B|バイト|ギガ|メガ|テラ)|\bhow (?:much|many) (?:memory|ram|disk|storage|space|"
            r"[KMGTP]i?B|bytes|gigabytes|megabytes)\b|"
            # 「メモリの最大量はどれくらい」: an amount of memory or storage is a size in bytes
            r"(?:メモリ|容量|ストレージ|ディスク)[^、。？?\s]{0,12}?(?:どれくらい|どのくらい|どれぐらい|どのぐらい|どれほど)",
            re.I,
        ),
        re.compile(r"[0-9０-９][0-9,.]*\s*(?:[KMGTP]i?B|バイト|bytes?|ギガ|メガ|テラ)", re.I),
    ),
    "duration": (
        re.compile(
            # 「何秒かかりますか」: a length of time (何分の一 is a fraction; 何年 a date)
            r"何\s*(?:秒|分(?!の)|時間|日間|週間|[かカヶケ]月|年間)|"
            r"\bhow many (?:milli|micro|nano)?(?:seconds|minutes|hours|days|weeks|months|years)\b",
            re.I,
        ),
        re.compile(
            # a number (数・十 … or digits) and a unit of time, or 秒単位・分単位
            r"(?:[0-9０-９][0-9０-９,.]*|[数一二三四五六七八九十百千万]+)\s*"
            r"(?:秒|分(?!の)|時間|日|週|[かカヶケ]月|年|ミリ秒|"
            r"(?:ms|s|sec|secs|min|mins|h|hrs?|(?:milli|micro|nano)?seconds?|minutes?|hours?|days?|weeks?|"
            r"months?|years?)\b)|(?:秒|分|時間|日|週|月|年)単位|"
            r"\b(?:a|one|two|three|four|five|six|seven|eight|nine|ten|a few|several|few|many)\s+"
            r"(?:(?:milli|micro|nano)?seconds?|minutes?|hours?|days?|weeks?|months?|years?)\b",
            re.I,
        ),
    ),
    "count": (
        re.compile(
            # 「いくつかの」 (some) asks for nothing; いくら without a word of money asks for an
            # amount (「議席数はいくらか」); "a number of" is not "the number of"
            r"いくつ(?!か[のを、])|いくら(?!でも)|何個|何台|何人|何種類|何社|何件|"
            r"\bhow many\b|\b(?:the|total) (?:(?:maximum|minimum|total|average|exact) )?number of\b",
            re.I,
        ),
        re.compile(
            # a number standing alone, not a digit inside a name ("K8s", "v2", "2.x"), nor a
            # year or a day (2017年), nor a decimal without a multiplier (a version: 1.0)
            r"(?<![A-Za-z0-9.])[0-9０-９][0-9０-９,]*(?![A-Za-z0-9]|\.[A-Za-z0-9]|\s*[年月日](?!間))|"
            r"(?<![A-Za-z0-9.])[0-9]+\.[0-9]+\s*(?:[十百千万億兆倍%％]|(?:hundred|thousand|million|billion)\b)|"
            r"[一二三四五六七八九十百千万]+(?:つ|個|台|人|種|社|件)|"
            r"\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|(?:twen|thir|for|fif|six|seven|"
            r"eigh|nine)ty|dozens?|hundreds?|thousands?|millions?|billions?|several)\b",
            re.I,
        ),
    ),
}

_COUNTER_KA = "かカヶケ箇ヵ"  # one counter written several ways: 3か所・3カ所・3ヶ所・3箇所

# A question that asks how to do something: a command or a configuration may answer it.
PROCEDURE = re.compile(
    r"どう(?:指定|設定|実行|すれば|やって|したら)|どのように(?:指定|設定|実行|すれば)|方法|手順|やり方|"
    r"\bhow (?:do|can|should|would|could) (?:i|you|we|one)\b|\bhow to\b",
    re.I,
)

# The literal a file, command, option or field question wants (a preference, not an ask).
LITERALS: dict[str, tuple[re.Pattern[str], re.Pattern[str]]] = {
    "file": (
        re.compile(r"ファイル名?[はをにで]|どのファイル|\b(?:which|what) (?:\w+ )?file\b|\bfile ?name", re.I),
        re.compile(
            r"(?<![\w/])(?:~|\.{1,2})?/[\w.@%-]+(?:/[\w.@%-]+)*|(?<![\w.])\.[a-z][\w-]{2,}\b|"
            r"\b[\w-]+\.(?:conf|json|ya?ml|toml|ini|cfg|txt|xml|sh|service|env)\b",
            re.I,
        ),
    ),
    "command": (
        re.compile(r"コマンド|\bcommands?\b", re.I),
        re.compile(r"(?:^|\s)[$#]\s+[a-z]"),  # a shell prompt; a code block always holds one
    ),
    "option": (
        re.compile(r"オプション|フラグ|引数|\b(?:option|flag|argument)s?\b", re.I),
        re.compile(r"(?<![\w-])--?[A-Za-z][\w-]*(?:=[\w.-]+)?"),
    ),
    "field": (
        re.compile(r"フィールド|\bfields?\b", re.I),
        re.compile(r"\b[a-z]+[A-Z][A-Za-z]*\b"),
    ),
}


@dataclass
class Question:
    text: str
    kind: str  # value, comparison, which, list, why, how, definition
    sides: list[str] = field(default_factory=list)  # the things compared or chosen between
    term: str = ""  # the term a definition question asks about
    ask: str = ""  # a key of ASKS, when the question wants that kind of fact
    measure: bool = False  # how long / how much / どのくらい: a value with a quantity is wanted
    named: bool = False  # who / where / 誰 / どこ: the answer is a name the question does not give
    unit: str = ""  # 「何ワット」: the unit of the quantity asked for (ask is then "unit")
    literal: str = ""  # a key of LITERALS: a path, an option, a field is preferred
    default: bool = False  # "the default …" / 既定値: the answer must say that it is the default
    bound: bool = False  # "the maximum number of …" / 上限: with an ask, the answer must state a bound
    noun: str = ""  # 「…は何気団か」: the noun naming the kind of thing asked for (`asked_noun`)

    def holds(self, text: str) -> bool:
        """Does the text contain a fact of the shape this question asks for?"""
        if self.ask == "unit":
            # a number, a multiplier (250万トン, 1.7億ドル), then the unit in any of its
            # spellings (何か所: 10カ所・10ヶ所・10箇所)
            number = r"(?<![A-Za-z0-9.])[0-9０-９](?:[0-9０-９,.]*[0-9０-９])?\s*[十百千万億兆]*\s*"
            unit = re.escape(self.unit)
            if self.unit[:1] in _COUNTER_KA:
                unit = f"[{_COUNTER_KA}]" + re.escape(self.unit[1:])
            return bool(re.search(rf"{number}(?:{unit}|[A-Za-z%％])", text))
        return fact_present(self.ask, text)

    def wants_code(self) -> bool:
        """Can a code block answer it: a command, file, option or field question, or one
        that asks how to do something (どう指定・方法 / how do I, how to)?"""
        return bool(self.literal or PROCEDURE.search(self.text))

    def has_literal(self, text: str) -> bool:
        """Does the text hold a literal of the kind asked for (a path, a --flag, a field)?"""
        return bool(self.literal and LITERALS[self.literal][1].search(text))


def analyse(question: str) -> Question:
    """Detect the question's type, the things it names side by side, and its ask."""
    q = question.strip().rstrip("。")
    sides = _sides(q)
    measure = bool(MEASURE.search(q))
    named = bool(_NAMED.search(q))
    ask = next((name for name, (asked, _) in ASKS.items() if asked.search(q)), "")
    unit = "" if ask else _unit_asked(q)
    ask = "unit" if unit else ask
    literal = next((name for name, (asked, _) in LITERALS.items() if asked.search(q)), "")
    default = bool(DEFAULT.search(q))
    bound = bool(ask) and bool(BOUND.search(q))
    if _WHY.search(q):
        kind = "why"
    elif _WHICH.search(_RELATIVE.sub(" ", q)) and not _COMPARISON.search(q):
        kind = "which"
    elif _COMPARISON.search(q):
        kind = "comparison"
    elif _LIST.search(q) and not ask:
        kind = "list"
    elif _HOW.search(q) and not re.search(r"\bhow (?:is|are) \w+$", q, re.I):
        kind = "how"
    else:
        definition = _DEFINITION.search(q)
        term = ""
        if definition:
            term = next((g for g in definition.groupdict().values() if g), "").strip(" 「」『』\"'")
        # 「マルチテナンシーでいうテナントとは」: the term is テナント, asked within a frame
        term = term[len(term_frame(term)) :]
        if term and len(term) <= 40 and not re.search(r"[をにがで]|\s(?:do|does|can|of)\s", term):
            return Question(
                question, "definition", sides, term, ask, measure, named, unit, literal, default, bound
            )
        kind = "value"
        named = named or _asks_subject(q)
    sides = sides if kind in {"comparison", "which"} else []
    noun = asked_noun(q) if kind == "value" and not ask else ""
    return Question(question, kind, sides, "", ask, measure, named, unit, literal, default, bound, noun)


def _asks_subject(question: str) -> bool:
    """Does a Japanese question ask who or what did something, with no question word: a cleft
    (「…を発表したのは？」) or a noun after a clause (「…談合を認めたゼネコンは」)? Its answer is a
    name, as for 誰 or 何党."""
    q = re.sub(r"[？?。\s]+$", "", question)
    if not re.search(r"[\u3040-\u30ff\u3400-\u9fff]は$", q):
        return False
    if q.endswith("のは"):
        return True
    parts = [m.part_of_speech()[0] for m in default_tokenizer().morphemes(q)][:-1]
    nouns = len(parts) - len(list(itertools.takewhile(lambda p: p == "名詞", reversed(parts))))
    return 0 < nouns < len(parts) and parts[nouns - 1] in {"動詞", "助動詞", "形容詞"}


# Question words as the tokenizer gives them (normalised: いくつ → 幾つ, なぜ → 何故).
_QUESTION_TERMS = frozenset({"誰", "どこ", "何処", "いつ", "何時", "何故", "幾つ", "幾ら", "どなた"})


def is_question_word(term: str) -> bool:
    """Is the term a question word (誰・いつ・何月・何人 …)? It asks; it is not content a
    passage must contain (「…が行われたのは何月何日」 is answered by 「2月8日の…」)."""
    return term in _QUESTION_TERMS or (len(term) >= 2 and term.startswith("何") and term != "何か")


def term_frame(question: str) -> str:
    """The frame a definition question asks its term in (「マルチテナンシーでいう」 of 「マルチテナン
    シーでいうテナントとは」), or "": its words place the term but are not what is defined."""
    found = _FRAME_OF_TERM.match(question.strip())
    return found.group(0) if found else ""


def default_of(question: str) -> str:
    """The thing whose default a question asks for ("restart policy", 「imagePullPolicy」), or ""."""
    found = _DEFAULT_OF.search(question)
    if not found:
        return ""
    return next((g for g in found.groupdict().values() if g), "").strip()


# 「…の実装の１つ」「一つ以上の」 / "one of the", "one or more": a member or a bound, not a
# count; nor is a year in English: after a preposition of time ("in 1347", "since 2004"), after
# a month ("7 January 1900") or as a span ("1338–39", "1700–21")
_NOT_A_COUNT = re.compile(
    r"の(?:[1１一]|ひと)つ(?!目)|(?:[1１一]|ひと)つ(?:以上|または|もしくは)|\bone (?:of|or more)\b|"
    r"\b(?:in|since|until|till|during|before|after|circa|c\.)\s+(?:(?:early|late|mid|the year)\s+)?"
    r"(?:1[0-9]{3}|20[0-9]{2})\b(?:\s*[–—-]\s*[0-9]{2,4}\b)?|"
    r"\b(?:[0-9]{1,2}\s+)?(?:January|February|March|April|May|June|July|August|September|October|November|December)"
    r"\s+(?:[0-9]{1,2},?\s+)?[12][0-9]{3}\b|"
    r"\b1[0-9]{3}\s*[–—-]\s*[0-9]{2}\b",
    re.I,
)
# a number that is part of a name: "Office 365", "Windows 10" (a capitalised word, not one that
# opens a sentence such as "About 300", right before it) counts nothing
_NAMED_NUMBER = re.compile(
    r"\b(?!(?:About|Around|Over|Under|Nearly|Almost|Approximately|Roughly|Some|Only|All|Just|More|Less|"
    r"Fewer|Up|At|By|In|Of|On|To|From|With|The|These|Those|Its|Their|Each|Every|Than|And|Or|But)\b)"
    r"[A-Z][A-Za-z]*\s+[0-9]+\b(?![.,]?[0-9]|\s*[%％])"
)


def _without_non_counts(text: str) -> str:
    """The text with the numbers that count nothing blanked: members, bounds, English years,
    numbers in names."""
    return _NAMED_NUMBER.sub(" ", _NOT_A_COUNT.sub(" ", text))


def fact_present(ask: str, text: str) -> bool:
    """Does the text contain a fact of the shape the question asks for?"""
    if not ask:
        return True
    if ask == "count":
        text = _without_non_counts(text)
    return bool(ASKS[ask][1].search(text))


_CLAUSE_END = re.compile(r"[、。，,;；:：（(「『\n]")
# a name: capitalised or with a capital or digit inside (Windows, iOS, k8s), or katakana; not
# an ordinary English word before the number ("became beta in v1.30")
_OWNER = re.compile(r"\b(?:[A-Z][A-Za-z0-9+#_-]*|[a-z]+[A-Z0-9][A-Za-z0-9+#_-]*)|[ァ-ヴー]{2,}")
_NOT_OWNER = frozenset({
    "version", "release", "v", "ver", "バージョン", "リリース",
    # English function words capitalised at the start of a sentence ("It shipped with 2.1")
    "it", "its", "the", "this", "that", "these", "those", "they", "a", "an", "in", "on", "at", "with",
    "from", "since", "until", "and", "or", "of", "for", "to", "by", "as", "after", "before",
})  # fmt: skip


def fact_owners(ask: str, text: str) -> list[str]:
    """For each fact of the asked shape in the text, the name written just before it in
    its clause (「Windows 10 バージョン 2004」 → Windows), or "" when there is none: a
    version belongs to the product named before it, not to every product of the sentence."""
    owners = []
    for found in ASKS[ask][1].finditer(text) if ask in ASKS else ():
        before = _CLAUSE_END.split(text[max(0, found.start() - 24) : found.start()])[-1]
        names = [w for w in _OWNER.findall(before) if w.lower() not in _NOT_OWNER]
        owners.append(names[-1] if names else "")
    return owners


# "how many layers", "the maximum number of nodes": the thing counted
_COUNTED_EN = re.compile(
    r"\bhow many (?P<a>[a-z][\w-]*)|\bnumber of (?:(?:different|distinct|separate) )?(?P<b>[a-z][\w-]*)", re.I
)
# after a count: 「3つの仕様」「5種類のレイヤー」 (its counter, の, the thing counted) or
# "three specifications", "127 more layers"
_COUNTED_AFTER = re.compile(
    r"\s*(?:つ|個|種類?|台|人|社|件|本|枚|回|点|名)?の(?P<ja>[\u30a0-\u30ff\u3400-\u9fffA-Za-z]+)|"
    r"\s+(?:(?:more|other|different|distinct|separate|main|major|new|additional)\s+)?(?P<en>[a-z][\w-]*)",
    re.I,
)
# before a count: 「違いが1つ」「仕様は約3つ」 (the thing counted, が・は・も, the count)
_COUNTED_BEFORE = re.compile(
    r"(?P<ja>[\u3040-\u30ff\u3400-\u9fffA-Za-z]+)[がはも]\s*(?:約|およそ|最大|最低)?\s*$"
)
# words after "how many" or after a number that are not the thing counted
_NOT_COUNTED = frozenset({
    "of", "to", "in", "on", "at", "by", "for", "from", "with", "and", "or", "up", "than", "per",
    "times", "percent", "years", "months", "days", "hours", "minutes", "seconds", "people",
    "is", "are", "was", "were", "be", "been", "do", "does", "did", "have", "has", "had",
    "can", "could", "will", "would", "should", "may", "might", "must", "there", "they", "it",
})  # fmt: skip


_NOT_HEAD = frozenset(
    {"a", "an", "the", "that", "which", "who", "can", "may", "does", "did", "do", "per", "each"}
)


def counted_noun(question: str) -> str:
    """The thing an English question counts ("How many layers …" → layers; "the number of init
    containers" → init containers), or ""."""
    found = _COUNTED_EN.search(question)
    if not found:
        return ""
    word = (found.group("a") or found.group("b") or "").lower()
    if word in _NOT_COUNTED:
        return ""
    # "init containers": a noun before the noun counted is part of its name
    rest = re.match(r"\s+([a-z][\w-]*)", question[found.end() :], re.I)
    head = rest.group(1).lower() if rest else ""
    return f"{word} {head}" if head and head not in _NOT_COUNTED and head not in _NOT_HEAD else word


def count_owners(text: str) -> list[str]:
    """For each count in the text, the thing it counts: written right after it (「3つの仕様」 →
    仕様, "three specifications" → specifications) or just before it with が・は・も (「違いが1つ」
    → 違い); "" when it is written in neither place."""
    text = _without_non_counts(text)
    owners = []
    for found in ASKS["count"][1].finditer(text):
        after = _COUNTED_AFTER.match(text, found.end())
        word = (after.group("ja") or after.group("en") or "") if after else ""
        before = None if word else _COUNTED_BEFORE.search(text, 0, found.start())
        if before:
            # the noun just before the particle: 「…似ていますが、違いが1つ」 → 違い
            word = next(iter(default_tokenizer().tokenize(before.group("ja"))[-1:]), "")
        word = word.lower()
        owners.append("" if word in _NOT_COUNTED else word)
    return owners


def _unit_asked(question: str) -> str:
    """「何ワット」「何パーセント」「何GHz」: the unit of a quantity asked for. The dictionary
    reads 何 as a numeral before a noun that can be a counter (助数詞可能), and as a pronoun
    before an ordinary noun (「何コード」: which code), which asks for no quantity."""
    if "何" not in question:
        return ""
    for before, after in itertools.pairwise(list(default_tokenizer().morphemes(question))):
        numeral = before.surface() == "何" and before.part_of_speech()[1] == "数詞"
        # kanji counters (何台・何人) are the count ask
        counter = after.part_of_speech()[2] == "助数詞可能" and not re.fullmatch(
            r"[\u3400-\u9fff]", after.surface()
        )
        if numeral and counter:
            return str(after.surface())
    return ""


def _sides(question: str) -> list[str]:
    match = _PAIR_JA.search(question)
    if match:
        return [match.group("a").strip(), match.group("b").strip()]
    match = _PAIR_EN.search(question)
    if match:
        a = _EN_LEAD.sub("", match.group("a").strip())
        a = _EN_LEAD.sub("", a)
        return [a, match.group("b").strip()]
    return []
