"""`assistant sources`: what `assistant ingest` indexes by default, and each source's state."""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from assistant.settings import Settings


def register(sub: Any) -> None:
    p = sub.add_parser(
        "sources",
        help="list the configured sources and their state (last fetch, documents, errors)",
        description="List the sources of the sources file (setting sources_file, default "
        "corpus/sources.toml) and every source ingested before, with the time of its last "
        "fetch, the documents it offered and the errors met.",
    )
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=cmd_sources)


def cmd_sources(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.connectors import configured
    from assistant.connectors.base import load_states

    states = load_states(settings.data_dir)
    rows: list[dict[str, Any]] = []
    for root in configured(settings) or []:
        key = getattr(root, "key", str(root))
        rows.append({"key": key, "configured": True, **states.pop(key, {"key": key, "last_fetch": None})})
    rows += [{"configured": False, **state} for state in states.values()]
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    if not rows:
        print("no sources configured or ingested yet", file=sys.stderr)
        return 0
    for row in rows:
        when = row.get("last_fetch")
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(when)) if when else "never fetched"
        flag = "" if row.get("configured") else "  (not in the sources file)"
        print(f"{row['key']}{flag}\n  last fetch: {stamp}; documents: {row.get('documents', 0)}; "
              f"errors: {len(row.get('errors') or [])}")  # fmt: skip
        for error in (row.get("errors") or [])[:5]:
            print(f"    - {error}")
        if len(row.get("errors") or []) > 5:
            print(f"    … and {len(row['errors']) - 5} more (see --json)")
    return 0
