"""A stand-in answerer for the browser tests: the offline answer, paced like a language model.

Registered as the ``paced`` backend by running this module instead of ``python -m ui.serve``
(``python -m tests.ui_paced --server.port …``); it waits before the first piece and
between pieces, so that a test can see the stages of a streamed answer one by one.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator, Sequence
from typing import Any

from assistant import answerers
from assistant.types import Passage

FIRST_PIECE_DELAY = 0.8
PIECE_DELAY = 0.15


class PacedAnswerer:
    name = "paced"

    def __init__(self, model: str, *, settings: Any, embedder: Any) -> None:
        self.inner = answerers.get_answerer("extractive", settings, embedder)

    def stream(self, question: str, passages: Sequence[Passage], language: str) -> Iterator[Any]:
        time.sleep(FIRST_PIECE_DELAY)
        for piece in self.inner.stream(question, passages, language):
            if not isinstance(piece, str):
                yield piece  # a Note
                continue
            # Like a language model's tokens: a piece arrives in a few parts.
            step = max(1, len(piece) // 3)
            for start in range(0, len(piece), step):
                yield piece[start : start + step]
                time.sleep(PIECE_DELAY)


if __name__ == "__main__":
    answerers.PROVIDERS["paced"] = "tests.ui_paced:PacedAnswerer"
    from ui.serve import main

    sys.exit(main(sys.argv[1:]))
