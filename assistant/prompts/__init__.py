"""Prompt texts, one file per purpose and language (``answer.ja.txt``, ``rewrite.en.txt``...)."""

from __future__ import annotations

from functools import cache
from importlib.resources import files


@cache
def load_prompt(purpose: str, language: str) -> str:
    """The prompt for ``purpose`` (``answer``, ``rewrite``) in ``language``, English if missing."""
    folder = files(__name__)
    resource = folder.joinpath(f"{purpose}.{language}.txt")
    if not resource.is_file():
        resource = folder.joinpath(f"{purpose}.en.txt")
    return resource.read_text(encoding="utf-8").strip()
