"""Slack bot under a burst: how fast requests are acknowledged and questions answered.

Everything runs on 127.0.0.1: the real bot (Bolt on Starlette under uvicorn), a stand-in
of the Slack Web API (tests/slack_stub.py, optionally with Slack-like rate limits) and a
slow stand-in language model (tests/chat_standin.py, ``--answer-seconds`` per answer),
used through the ordinary ``openai:`` answerer. The index uses the ``fake`` embedder,
so the figures are about the bot, not about retrieval.

Baseline, same run: button-click acks on the idle bot. Then a burst of ``--burst``
mentions over ten channels with ``--clicks`` clicks sent while the workers are busy.
Reported: ack p50/p99 of the mentions and the clicks (and the clicks' ratio to the
idle baseline), time-to-answer p50/p99/max, answers lost.

    python benchmarks/slack_load.py [--burst 50] [--clicks 20] [--answer-seconds 1]
                                    [--workers 4] [--rate-limits] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.pipeline import Assistant  # noqa: E402
from assistant.settings import load_settings  # noqa: E402
from assistant.slack import build_bot  # noqa: E402
from assistant.slack.server import make_http_server  # noqa: E402
from tests.chat_standin import StandIn, StandInServer  # noqa: E402
from tests.slack_stub import (  # noqa: E402
    SECRET,
    SlackStub,
    click_payload,
    envelope,
    form,
    mention_event,
    signed_post,
)

QUESTION = "コンテナの起動速度はどのくらいですか？"


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def summary(values: list[float]) -> dict[str, float]:
    return {"p50_ms": round(statistics.median(values) * 1000, 1), "p99_ms": round(pct(values, 0.99) * 1000, 1),
            "max_ms": round(max(values) * 1000, 1)}  # fmt: skip


def run(args: argparse.Namespace) -> dict[str, Any]:
    def slow(body: dict[str, Any]) -> str:
        time.sleep(args.answer_seconds)
        return "コンテナは秒単位で起動します [1]。"

    with tempfile.TemporaryDirectory() as tmp, StandInServer(StandIn(responder=slow)) as chat:
        stub = SlackStub().start()
        if args.rate_limits:
            stub.slack_like_limits()
        settings = load_settings(
            data_dir=Path(tmp), embedder="fake:256", answerer="openai:stand-in",
            llm_base_url=f"{chat.base_url}/v1", slack_workers=args.workers,
        )  # fmt: skip
        Assistant(settings).ingest([ROOT / "corpus"])
        bot = build_bot(
            Assistant(settings), bot_token="xoxb-bench", signing_secret=SECRET, api_url=stub.api_url
        )
        bot.start()
        server = make_http_server(bot, SECRET, "127.0.0.1", 0, shutdown_grace=1).start_in_thread()
        try:
            first = mention_event(stub, "C0FIRST", QUESTION)
            signed_post(server.url, envelope(first))
            answer = stub.wait_for(lambda: stub.answers("C0FIRST"), timeout=60)[0]
            clicks = [form(click_payload(answer, "C0FIRST", i % 2, user=f"U{i}")) for i in range(args.clicks)]
            idle = [signed_post(server.url, body, form=True)[2] for body in clicks]

            events = [mention_event(stub, f"C0B{i % 10}", f"{QUESTION} ({i})") for i in range(args.burst)]
            sent_at: dict[str, float] = {}

            def send(event: dict[str, Any]) -> float:
                sent_at[event["ts"]] = time.monotonic()
                return signed_post(server.url, envelope(event))[2]

            with ThreadPoolExecutor(max(args.burst, args.clicks)) as pool:
                mention_acks = list(pool.map(send, events))
                time.sleep(0.3)
                busy = list(pool.map(lambda body: signed_post(server.url, body, form=True)[2], clicks))
            asked = {e["ts"] for e in events}
            answered_at: dict[str, float] = {}
            deadline = time.monotonic() + args.timeout
            while time.monotonic() < deadline and len(answered_at) < len(asked):
                for message in stub.answers():
                    ts = message.get("thread_ts")
                    if ts in asked and ts not in answered_at:
                        answered_at[ts] = time.monotonic()
                time.sleep(0.02)
            to_answer = [answered_at[ts] - sent_at[ts] for ts in answered_at]
            return {
                "burst": args.burst, "clicks": args.clicks, "answer_seconds": args.answer_seconds,
                "workers": args.workers, "rate_limits": args.rate_limits,
                "click_ack_idle": summary(idle), "click_ack_under_burst": summary(busy),
                "click_ack_p99_ratio_busy_vs_idle": round(pct(busy, 0.99) / pct(idle, 0.99), 2),
                "mention_ack": summary(mention_acks),
                "time_to_answer": summary(to_answer) if to_answer else {},
                "answered": len(answered_at), "lost": len(asked) - len(answered_at),
                "ideal_last_answer_s": round(args.burst / args.workers * args.answer_seconds, 1),
                "calls_429": sum(1 for c in stub.calls if c.status == 429),
            }  # fmt: skip
        finally:
            server.stop()
            stub.stop()


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--burst", type=int, default=50)
    parser.add_argument("--clicks", type=int, default=20)
    parser.add_argument("--answer-seconds", type=float, default=1.0)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument(
        "--rate-limits", action="store_true", help="Slack-like limits in the Web API stand-in"
    )
    parser.add_argument("--timeout", type=float, default=300)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    result = run(args)
    text = json.dumps(result, indent=2, ensure_ascii=False)
    sys.stdout.write(text + "\n")
    if args.json:
        args.json.write_text(text, encoding="utf-8")
    return 0 if result["lost"] == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
