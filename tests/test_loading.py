from __future__ import annotations

import os
from pathlib import Path

import pytest

from assistant.errors import LoaderError
from assistant.loading import clean_markdown, decode_text, iter_files, load_bytes, load_file

from .conftest import SHARED

JA = "コンテナはホストOSのカーネルを共有します。"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp932", "euc_jp", "utf-16"])
def test_japanese_text_is_decoded_in_common_encodings(encoding: str) -> None:
    data = (JA * 3).encode(encoding)
    assert decode_text(data, "x.txt") == JA * 3


def test_binary_file_is_refused_with_its_name() -> None:
    with pytest.raises(LoaderError, match=r"blob\.txt: looks like a binary"):
        decode_text(b"\x00\x01\x02binary" * 10, "blob.txt")


def test_front_matter_becomes_metadata_and_title() -> None:
    text = "---\ntitle: コンテナ\ndescription: 説明文\nweight: 10\n---\n本文です。\n"
    doc = load_bytes(text.encode(), "a.md", ".md")
    assert doc.title == "コンテナ"
    assert doc.metadata == {"title": "コンテナ", "description": "説明文"}
    assert doc.text == "本文です。"


def test_markup_that_is_not_text_is_cleaned() -> None:
    text = """<!-- hidden comment -->
{{< glossary_tooltip text="Pod" term_id="pod" >}}は最小単位です。
{{< note >}}
注意書きの本文。
{{< /note >}}
{{% capture overview %}}

!!! note "Kata note"
    Indented admonition body.

> [!WARNING]
> Alert body.
"""
    cleaned = clean_markdown(text)
    for gone in ("<!--", "hidden", "{{", "}}", "!!!", "[!WARNING]", "term_id"):
        assert gone not in cleaned
    for kept in (
        "Podは最小単位です。",
        "注意書きの本文。",
        "Kata note",
        "Indented admonition body.",
        "Alert body.",
    ):
        assert kept in cleaned


def test_code_blocks_are_kept_verbatim() -> None:
    text = "```\n<!-- not a comment here -->\n```\n"
    assert "<!-- not a comment here -->" in clean_markdown(text)


def test_html_becomes_text_with_headings() -> None:
    html = "<html><head><title>T</title><script>alert(1)</script></head><body><h2>見出し</h2><p>段落。</p></body></html>"
    doc = load_bytes(html.encode(), "p.html", ".html")
    assert doc.title == "T"
    assert "## 見出し" in doc.text and "段落。" in doc.text and "alert" not in doc.text


def _minimal_pdf(text: str) -> bytes:
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = b"%PDF-1.4\n"
    offsets = []
    for i, obj in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + obj + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return out


def test_pdf_text_is_extracted() -> None:
    doc = load_bytes(_minimal_pdf("Containers share the host kernel."), "c.pdf", ".pdf")
    assert "Containers share the host kernel." in doc.text


def test_broken_pdf_is_a_clear_error() -> None:
    with pytest.raises(LoaderError, match=r"bad\.pdf"):
        load_bytes(b"%PDF-1.4 garbage", "bad.pdf", ".pdf")


def test_unsupported_type_and_missing_path(tmp_path: Path) -> None:
    with pytest.raises(LoaderError, match="unsupported file type"):
        load_bytes(b"x", "a.docx", ".docx")
    with pytest.raises(LoaderError, match="does not exist"):
        list(iter_files([tmp_path / "nope"], ["**/*.md"], []))


def test_directory_walk_honours_include_and_exclude(tmp_path: Path) -> None:
    for name in ("a.md", "sub/b.md", "sub/c.txt", "drafts/d.md"):
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x")
    found = {p.relative_to(tmp_path).as_posix() for p, _ in iter_files([tmp_path], ["**/*.md"], ["drafts/*"])}
    assert found == {"a.md", "sub/b.md"}


RELATED = SHARED / "corpus" / "related"


@pytest.mark.skipif(not RELATED.exists(), reason="../shared/corpus/related is absent")
def test_related_docs_load_without_leftover_markup() -> None:
    leftovers = []
    for path in sorted(RELATED.rglob("*.md")):
        try:
            doc = load_file(path)
        except LoaderError as exc:
            assert "no readable text" in exc.message  # an index page with front matter only
            continue
        in_code = False
        for line in doc.text.split("\n"):
            if line.lstrip().startswith(("```", "~~~")):
                in_code = not in_code
            if in_code:
                continue
            if "{{<" in line or "{{%" in line or "<!--" in line or line.lstrip().startswith("!!! "):
                leftovers.append(f"{path.relative_to(RELATED)}: {line.strip()[:80]}")
    assert not leftovers, "\n".join(leftovers[:20])


def test_a_bom_decides_only_when_the_bytes_decode() -> None:
    # A UTF-16 BOM followed by bytes that are not UTF-16 (a lone surrogate): not trusted.
    with pytest.raises(LoaderError, match=r"binary|encoding"):
        decode_text(b"\xff\xfe" + b"\x00\xd8\x41\x00" * 20, "fake-bom.txt")
    # A UTF-8 text that merely starts with bytes looking like a UTF-16 BOM is read as text.
    lookalike = "ÿþ" + JA
    assert decode_text(lookalike.encode("utf-8"), "x.txt") == lookalike
    # A real UTF-16 file missing its last byte keeps its text, with a warning.
    warnings: list[str] = []
    truncated = (JA * 3).encode("utf-16")[:-1]
    assert decode_text(truncated, "t.txt", warnings=warnings).startswith(JA * 2)
    assert warnings and "truncated" in warnings[0]


def test_a_few_invalid_bytes_in_utf8_are_replaced_with_a_warning() -> None:
    data = (JA * 20).encode() + b"\xff" + (JA * 20).encode()
    warnings: list[str] = []
    text = decode_text(data, "x.md", utf8_tolerance=0.01, warnings=warnings)
    assert text == JA * 20 + "\ufffd" + JA * 20
    assert warnings == ["1 invalid byte sequence(s) replaced by \ufffd while decoding UTF-8"]
    # Stricter than the share of invalid bytes: the text is guessed as another encoding instead.
    many = b"\xff".join([(JA * 2).encode()] * 30)
    with pytest.raises(LoaderError):
        load_bytes(many, "x.md", ".md", utf8_tolerance=0.0)
    # Shift_JIS is not mistaken for slightly broken UTF-8.
    assert decode_text((JA * 3).encode("cp932"), "s.txt", utf8_tolerance=0.5) == JA * 3


def test_names_that_are_not_utf8_are_shown_safely(tmp_path: Path) -> None:
    from assistant.loading import safe_name, scan_dir

    raw = os.fsencode(tmp_path) + b"/" + "資料.md".encode("cp932")
    with open(raw, "wb") as handle:
        handle.write(JA.encode())
    ((found, _root),) = scan_dir(tmp_path, ["**/*.md"], []).files
    name = safe_name(found)
    assert name.encode("utf-8") and "\\x8e" in name  # escaped bytes, encodable everywhere
    assert load_bytes(found.read_bytes(), name, ".md").text == JA


def test_oversized_input_is_refused_with_the_limit() -> None:
    with pytest.raises(LoaderError, match=r"limit of 0\.5 MB"):
        load_bytes(b"a" * 2**20, "big.txt", ".txt", max_bytes=2**19)
