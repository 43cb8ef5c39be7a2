"""The floors of the package, enforced by reading every module's imports.

Ground floor: `assistant.text` (imports nothing of ours), `assistant.types` and
`assistant.units` (evidence units of a passage, read by retrieval and the answerers
alike; both import only `text`). Backends and pipeline stages meet there, never inside each
other's packages. Frontends (`ui/`, `assistant/slack/`, `assistant/evals/`) go
through one door, `assistant.pipeline.Assistant`, plus the shared vocabulary.
The browser app and the Slack bot reach it through `assistant.door`: the Protocol
`AssistantLike` that the embedded `Assistant` and the service's client both implement,
and `open_assistant(settings)`, the one factory that picks (and lazily imports) one.
Frontends never import `assistant.client` themselves.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

#: What a frontend may import from the package besides its own modules.
FRONTEND_DOOR = {
    "assistant.pipeline",
    # The interface of the pipeline for frontends, and its factory: embedded or through the service.
    # Light by design (ground floor only at import time; tests/test_thin_cold.py checks it), so a
    # thin client loads no model and no store.
    "assistant.door",
    "assistant.types",
    "assistant.text",
    "assistant.settings",
    "assistant.errors",
    "assistant.feedback",
}
FRONTENDS = {"ui": "ui", "assistant/slack": "assistant.slack", "assistant/evals": "assistant.evals"}
#: module (or package prefix) -> package modules it must not import
FORBIDDEN = {
    "assistant.text": {"assistant"},
    "assistant.types": {"assistant"},
    "assistant.units": {"assistant"},
    "assistant.conversation": {"assistant.answerers", "assistant.retrieval", "assistant.pipeline"},
    "assistant.answerers": {
        "assistant.retrieval",
        "assistant.pipeline",
        "assistant.store",
        "assistant.ingest",
    },
    "assistant.retrieval": {"assistant.answerers", "assistant.pipeline"},
    "assistant.relevance": {"assistant.answerers", "assistant.pipeline"},
}
#: allowed exceptions to FORBIDDEN
ALLOWED = {"assistant.types": {"assistant.text"}, "assistant.units": {"assistant.text"}}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """Every module the file imports, at the top or inside functions, resolved to absolute names."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module_name(path).rsplit(".", 1)[0] if path.name != "__init__.py" else module_name(path)
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                name = f"{base}.{node.module}" if node.module else base
            else:
                name = node.module or ""
            found.add(name)
            # `from assistant import relevance` imports the module assistant.relevance
            found.update(f"{name}.{alias.name}" for alias in node.names if name in {"assistant", "ui"})
    return found


def ours(name: str) -> bool:
    return name == "assistant" or name.startswith(("assistant.", "ui."))


def within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def python_files(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


@pytest.mark.parametrize(
    "folder",
    [
        "ui",
        "assistant/slack",
        "assistant/evals",
    ],
)
def test_frontends_use_only_the_door_and_the_shared_vocabulary(folder: str) -> None:
    own = FRONTENDS[folder]
    bad = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in python_files(folder)
        for name in sorted(imports_of(path))
        if ours(name) and not within(name, own) and name not in FRONTEND_DOOR and name != "assistant"
    ]
    assert not bad, "\n".join(bad)


def test_lower_floors_do_not_import_upper_ones() -> None:
    bad = []
    for path in python_files("assistant"):
        module = module_name(path)
        for prefix, forbidden in FORBIDDEN.items():
            if not within(module, prefix):
                continue
            for name in imports_of(path):
                allowed = ALLOWED.get(prefix, set())
                if (
                    any(within(name, f) for f in forbidden)
                    and name not in allowed
                    and not within(name, prefix)
                ):
                    bad.append(f"{module} imports {name}")
    assert not bad, "\n".join(bad)


def test_settings_are_built_only_at_entry_points() -> None:
    entry_points = {
        "assistant.cli",
        "assistant.settings",
        "assistant.slack.cli",
        "assistant.evals.cli",
        "assistant.embedders.e5_export",  # `python -m assistant.embedders.e5_export` at set-up
    }
    bad = [
        module_name(path)
        for path in [*python_files("assistant")]
        if module_name(path) not in entry_points
        and any(
            isinstance(node, ast.Call)
            and getattr(node.func, "id", getattr(node.func, "attr", "")) in {"Settings", "load_settings"}
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        )
    ]
    assert not bad, f"modules that build settings themselves: {bad}"
