"""The `assistant serve` subcommand."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from assistant.settings import Settings


def register(sub: Any) -> None:
    p = sub.add_parser(
        "serve",
        help="run the HTTP service (API, OpenAI-compatible endpoint) that holds the models",
        description="Run one resident service that every frontend can ask. API docs at /docs.",
        epilog="examples:\n"
        "  assistant serve                         # http://127.0.0.1:8080, open to this machine only\n"
        "  assistant serve --hash-key s3cret        # print the hash to put in ASSISTANT_SERVER_ADMIN_KEYS\n"
        "  ASSISTANT_SERVER_URL=http://127.0.0.1:8080 assistant ask 'コンテナとは？'",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--host", help="address to listen on (ASSISTANT_SERVER_HOST, default 127.0.0.1)")
    p.add_argument("--port", type=int, help="port to listen on (ASSISTANT_SERVER_PORT, default 8080)")
    p.add_argument(
        "--hash-key", metavar="KEY", help="print the hash of an API key for the settings, and exit"
    )
    p.set_defaults(handler=cmd_serve)


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.server.auth import hash_key

    if args.hash_key:
        print(hash_key(args.hash_key))
        return 0
    from assistant.server.app import serve

    print(f"serving on http://{args.host or settings.server_host}:"
          f"{settings.server_port if args.port is None else args.port} (Ctrl-C stops)", file=sys.stderr)  # fmt: skip
    serve(settings, args.host, args.port)
    return 0
