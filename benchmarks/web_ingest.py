"""Web ingestion speed: pages/s against a local server, and where the time goes.

    python benchmarks/web_ingest.py [--pages 80] [--embedder fake:256] [--repeat 2]

Renders documents of ../shared/corpus/related as a small docs site (navigation,
sitemap, robots.txt; see tests/connector_site.py), serves it on 127.0.0.1 and
ingests it with the web connector. Reports, from the same run:

- first crawl: pages/s, and the share of the time spent fetching, extracting the
  main text, embedding, and everything else (loading, splitting, storing);
- the same pages ingested from the files on disk (the baseline without HTTP);
- an unchanged re-crawl (conditional requests answered 304, nothing embedded).

The default embedder is the fast ``fake:256`` so that the connector's own cost is
visible; pass ``--embedder sentence-transformers:multilingual-e5-small`` for the
real share of embedding.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.connectors.web import WebSite  # noqa: E402
from assistant.embedders import Embedder, get_embedder  # noqa: E402
from assistant.ingest import ingest  # noqa: E402
from assistant.settings import Settings, load_settings  # noqa: E402
from assistant.store import ChromaStore  # noqa: E402
from tests.connector_site import RELATED, SiteServer, build_site  # noqa: E402


class TimedEmbedder:
    """Delegates to an embedder and adds up the time spent in ``embed_documents``."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.name, self.dimension = inner.name, inner.dimension
        self.min_relevance, self.confident_relevance = inner.min_relevance, inner.confident_relevance
        self.seconds = 0.0

    def embed_documents(self, texts: list[str]) -> Any:
        started = time.perf_counter()
        try:
            return self.inner.embed_documents(texts)
        finally:
            self.seconds += time.perf_counter() - started

    def embed_query(self, text: str) -> Any:
        return self.inner.embed_query(text)


def run_web(base: str, settings: Settings, embedder: TimedEmbedder) -> dict[str, float]:
    site = WebSite(base + "/docs/", settings, max_pages=100_000)
    embedder.seconds = 0.0
    started = time.perf_counter()
    report = ingest([site], ChromaStore(settings), embedder, settings)  # type: ignore[arg-type]
    total = time.perf_counter() - started
    pages = len(report.added) + len(report.updated) + len(report.unchanged)
    return {"pages": pages, "total": total, "fetch": site.timings["fetch"], "extract": site.timings["extract"],
            "embed": embedder.seconds, "embedded": report.chunks_embedded}  # fmt: skip


def run_files(root: Path, settings: Settings, embedder: TimedEmbedder) -> dict[str, float]:
    embedder.seconds = 0.0
    started = time.perf_counter()
    report = ingest([root / "docs"], ChromaStore(settings), embedder, settings)  # type: ignore[arg-type]
    return {"pages": len(report.added), "total": time.perf_counter() - started, "embed": embedder.seconds}


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pages", type=int, default=80, help="documents rendered as pages")
    parser.add_argument("--embedder", default="fake:256")
    parser.add_argument("--repeat", type=int, default=2, help="runs per measurement (median reported)")
    args = parser.parse_args()
    if not RELATED.is_dir():
        print(f"skipped: {RELATED} is not available", file=sys.stderr)
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "site"
        build_site(root, limit=args.pages)
        embedder = TimedEmbedder(get_embedder(args.embedder, load_settings().models_dir))
        firsts, recrawls, files = [], [], []
        with SiteServer(root) as server:
            for i in range(args.repeat):
                settings = load_settings(data_dir=Path(tmp) / f"web{i}", embedder=args.embedder)
                firsts.append(run_web(server.base, settings, embedder))
                recrawls.append(run_web(server.base, settings, embedder))
                file_settings = load_settings(
                    data_dir=Path(tmp) / f"files{i}", embedder=args.embedder, include=["**/*.html"]
                )
                files.append(run_files(root, file_settings, embedder))

    def med(runs: list[dict[str, float]], key: str) -> float:
        return statistics.median(r[key] for r in runs)

    pages, total = med(firsts, "pages"), med(firsts, "total")
    parts = {k: med(firsts, k) for k in ("fetch", "extract", "embed")}
    other = max(total - sum(parts.values()), 0.0)
    print(f"web ingest of {pages:.0f} pages (embedder {args.embedder}, median of {args.repeat})")
    print(f"  first crawl:      {pages / total:7.1f} pages/s  ({total:.2f}s)")
    for name, seconds in [*parts.items(), ("other", other)]:
        print(f"    {name:<8} {seconds:7.2f}s  {seconds / total:6.1%}")
    files_rate = med(files, "pages") / med(files, "total")
    print(
        f"  same pages from disk (baseline): {files_rate:7.1f} pages/s  -> web/disk = {pages / total / files_rate:.2f}x"
    )
    re_total = med(recrawls, "total")
    print(f"  unchanged re-crawl: {med(recrawls, 'pages') / re_total:7.1f} pages/s  ({re_total:.2f}s, "
          f"{med(recrawls, 'embedded'):.0f} chunks embedded) -> {total / re_total:.1f}x faster than the first crawl")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
