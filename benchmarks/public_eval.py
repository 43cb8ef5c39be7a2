"""Retrieval and answer figures on public SQuAD-format data (JSQuAD valid, SQuAD dev), one table.

    python benchmarks/public_eval.py                          # JSQuAD: every paragraph and question;
                                                              # SQuAD: every paragraph, 1,000 questions
    python benchmarks/public_eval.py --dataset jsquad --split dev   # tune on JSQuAD's development half
    python benchmarks/public_eval.py --paragraphs 300 --questions 300   # a quick sample

The search always runs over every paragraph of the file (or of the --paragraphs
sample). ``--split dev|test`` keeps the questions of one half of the articles
(by a hash of the title, `assistant.evals.squad.title_split`): tune on dev, report test.

Each paragraph becomes a Markdown file (title in front matter) under
``.cache/public-eval/<name>/corpus``; the index lives beside it and is reused on
reruns (ingest is incremental, so embeddings are computed once per paragraph).
Samples are nested (the first N of a fixed shuffle), so growing a sample embeds
only the new paragraphs. Runs are resumable like any `assistant eval` run; a run is
found again by its settings and a fingerprint of the package's code, so a changed
answerer starts a new run beside the old one (both stay for a before/after
comparison); ``--fresh`` runs the same code again from the start.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import sys
from pathlib import Path

from tqdm import tqdm

import assistant
from assistant.errors import AssistantError
from assistant.evals.dataset import load_dataset
from assistant.evals.runner import pipeline_settings, run_eval
from assistant.evals.squad import convert
from assistant.pipeline import Assistant
from assistant.settings import load_settings

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "datasets"
DATASETS = {
    "jsquad": SHARED / "jsquad" / "valid-v1.3.json",
    "squad": SHARED / "squad" / "dev-v1.1.reconstructed.json",
}
SHOWN = ["hit@1", "hit@3", "hit@5", "mrr@5", "contains_reference", "f1", "latency_total_p50"]
SQUAD_QUESTIONS = 1000  # SQuAD dev has 10,570: a fixed sample of its questions, over all paragraphs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--dataset", choices=[*DATASETS, "both"], default="both")
    parser.add_argument("--paragraphs", type=int, help="paragraphs in the corpus (default: all)")
    parser.add_argument(
        "--questions", type=int, help=f"questions asked (default: JSQuAD all, SQuAD {SQUAD_QUESTIONS})"
    )
    parser.add_argument("--full", action="store_true", help="every paragraph and every question of both")
    parser.add_argument(
        "--split",
        choices=["dev", "test", "all"],
        default="all",
        help="questions of one half of the articles (by a hash of the title): tune on dev, report test",
    )
    parser.add_argument("--embedder", help="provider:model (default: the configured embedder)")
    parser.add_argument("--top-k", type=int, default=5)
    parser.add_argument("--cache", type=Path, default=ROOT / ".cache" / "public-eval")
    parser.add_argument(
        "--fresh",
        action="store_true",
        help="answer every question again (a run is resumed by its settings, not by the code that answered)",
    )
    parser.add_argument("--json", action="store_true", help="print the summaries as JSON")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    names = list(DATASETS) if args.dataset == "both" else [args.dataset]
    summaries = {}
    try:
        for name in names:
            if not DATASETS[name].exists():
                sys.stderr.write(f"skipping {name}: {DATASETS[name]} is missing\n")
                continue
            summaries[name] = run_one(name, args)
    except AssistantError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return exc.exit_code
    if args.json:
        sys.stdout.write(json.dumps(summaries, ensure_ascii=False, indent=2, default=str) + "\n")
        return 0
    sys.stdout.write(format_table(summaries, args.split) + "\n")
    return 0


def format_table(summaries: dict[str, dict], split: str) -> str:
    """One Markdown table: a row per dataset, hit@1/3/5, MRR, answer-contains-gold, F1, latency."""
    labels = {"mrr@5": "MRR@5", "contains_reference": "contains gold", "latency_total_p50": "p50 s"}
    head = ["dataset", "split", "paragraphs", "questions", *(labels.get(m, m) for m in SHOWN)]
    lines = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    for name, s in summaries.items():
        values = ["–" if (v := s["metrics"].get(m)) is None else f"{v:.3f}" for m in SHOWN]
        cells = [name, split, str(s["corpus"]["documents"]),
                 str(s["counts"]["questions"]), *values]  # fmt: skip
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def code_fingerprint() -> str:
    """A hash of the package's source files: the answers a run holds were made by this code."""
    package = Path(assistant.__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def run_one(name: str, args: argparse.Namespace) -> dict:
    paragraphs = None if args.full else args.paragraphs
    questions = (
        args.questions if args.questions is not None else (SQUAD_QUESTIONS if name == "squad" else None)
    )
    if args.full:
        questions = None
    split = args.split
    work = args.cache / name
    conversion = convert(DATASETS[name], work, paragraphs=paragraphs, questions=questions, split=split)
    overrides = {"embedder": args.embedder, "top_k": args.top_k}
    probe = load_settings(**overrides)
    key = hashlib.sha256(json.dumps(pipeline_settings(probe), sort_keys=True, default=str).encode())
    key.update(code_fingerprint().encode())
    settings = load_settings(
        data_dir=work / f"index-{probe.embedder.replace(':', '_').replace('/', '_')}"
        f"-{probe.chunk_size}-{probe.chunk_overlap}",
        corpus=[conversion.corpus_dir],
        **overrides,
    )
    bot = Assistant(settings)
    bar = tqdm(desc=f"{name}: embedding", unit="chunk", file=sys.stderr)

    def progress(done: int, total: int) -> None:
        bar.total = total
        bar.n = done
        bar.refresh()

    report = bot.ingest([conversion.corpus_dir], prune=True, progress=progress)
    bar.close()
    sys.stderr.write(
        f"{name}: {conversion.paragraphs} paragraphs ({report.chunks_embedded} chunks embedded "
        f"now, {report.chunks_total} indexed), {conversion.questions} questions, "
        f"{conversion.answers_in_title} with the answer in the title\n"
    )
    out = work / "runs" / f"{split}-p{conversion.paragraphs}-q{conversion.questions}-{key.hexdigest()[:8]}"
    records = load_dataset(conversion.dataset)
    return run_eval(bot, records, out, dataset=conversion.dataset, batch_size=16, fresh=args.fresh)


if __name__ == "__main__":
    sys.exit(main())
