"""Tests of nbclaude._content.blocks: to_blocks, nbclaude.document and the request guard rail."""

from __future__ import annotations

import base64
import copy
import http.server
import io
import json
import pickle
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

import nbclaude
from nbclaude import ImageError, InvalidRequestError
from nbclaude._content import DocumentBlock, document, fit_messages, to_blocks
from nbclaude._content.images import MAX_BASE64, ImageBlock, image, image_info

# A minimal two-page PDF (uncompressed objects, so the page count is readable).
PDF = (
    b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
    b"2 0 obj << /Type /Pages /Kids [3 0 R 4 0 R] /Count 2 >> endobj\n"
    b"3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >> endobj\n"
    b"4 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >> endobj\n"
    b"trailer << /Root 1 0 R >>\n%%EOF\n"
)


def png(size: tuple[int, int] = (60, 40), colour: tuple[int, int, int] = (255, 0, 0)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, colour).save(buf, "PNG")
    return buf.getvalue()


def b64_image(data: bytes, media_type: str = "image/png") -> dict[str, Any]:
    return {
        "type": "image",
        "source": {
            "type": "base64",
            "media_type": media_type,
            "data": base64.b64encode(data).decode(),
        },
    }


def text(t: str) -> dict[str, Any]:
    return {"type": "text", "text": t}


# ---------------------------------------------------------------------------------------------
# to_blocks


def test_strings_are_text_never_paths(tmp_path: Path) -> None:
    path = tmp_path / "pic.png"
    path.write_bytes(png())
    assert to_blocks("Describe", str(path)) == [text("Describe"), text(str(path))]


def test_empty_strings_dropped_adjacent_kept_separate() -> None:
    assert to_blocks("a", "", "  \n\t", "b") == [text("a"), text("b")]
    assert to_blocks() == []
    assert to_blocks("   ") == []


def test_lists_and_tuples_flatten_in_order() -> None:
    arr = np.zeros((4, 6, 3), np.uint8)
    blocks = to_blocks(["one", ("two", [arr])], "three")
    assert [b["type"] for b in blocks] == ["text", "text", "image", "text"]
    assert blocks[2]["source"]["media_type"] == "image/png"


def test_ready_blocks_pass_through_unchanged() -> None:
    img = image(png())
    tool = {"type": "tool_result", "tool_use_id": "toolu_1", "content": "42"}
    doc = document(text="Some facts.")
    blocks = to_blocks(img, tool, doc)
    assert blocks[0] is img
    assert blocks[1] is tool
    assert blocks[2] is doc
    assert to_blocks(text("  ")) == []  # an empty text block would be rejected by the API


def test_images_of_every_kind() -> None:
    import matplotlib

    matplotlib.use("Agg")
    from IPython.display import Image as IPyImage
    from matplotlib.figure import Figure

    fig = Figure(figsize=(2, 1), dpi=50)
    parts = [
        Image.new("RGB", (5, 5)),
        np.zeros((5, 5, 3), np.uint8),
        fig,
        png(),
        bytearray(png()),
        IPyImage(data=png()),
    ]
    blocks = to_blocks(*parts)
    assert len(blocks) == len(parts)
    assert all(isinstance(b, ImageBlock) and b["source"]["type"] == "base64" for b in blocks)
    assert blocks[2].width == 100


def test_paths_are_sniffed(tmp_path: Path) -> None:
    pic = tmp_path / "scan.data"  # no telling suffix: sniffed
    pic.write_bytes(png())
    pdf = tmp_path / "paper.bin"
    pdf.write_bytes(PDF)
    notes = tmp_path / "notes.md"
    notes.write_text("# Notes\nHello", encoding="utf-8")
    blocks = to_blocks(pic, pdf, notes)
    assert [b["type"] for b in blocks] == ["image", "document", "document"]
    assert blocks[1]["source"]["media_type"] == "application/pdf"
    assert blocks[2]["source"] == {
        "type": "text",
        "media_type": "text/plain",
        "data": "# Notes\nHello",
    }


def test_pdf_bytes_become_a_document() -> None:
    (block,) = to_blocks(PDF)
    assert block["type"] == "document"
    assert base64.b64decode(block["source"]["data"]) == PDF


@pytest.mark.parametrize(
    ("part", "match"),
    [
        (42, r"cannot send a int \(to send it as text, pass str\(value\)\)"),
        (None, r"cannot send a NoneType"),
        (object(), r"cannot send a object: pass text \(str\), an image"),
        ({"text": "no type"}, r'needs a "type" key'),
        (np.zeros(3), r"cannot send a ndarray"),
        ({1, 2}, r"cannot send a set"),
    ],
)
def test_unsupported_parts(part: Any, match: str) -> None:
    with pytest.raises(TypeError, match=match):
        to_blocks("ok", part)


def test_bad_files_are_image_errors(tmp_path: Path) -> None:
    with pytest.raises(ImageError, match=r"missing\.png: no such file"):
        to_blocks(tmp_path / "missing.png")
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"\x00\x01garbage")
    with pytest.raises(ImageError, match=r"junk\.bin: not an image"):
        to_blocks(junk)
    with pytest.raises(ImageError, match="not an image"):
        to_blocks(b"plain bytes")


# ---------------------------------------------------------------------------------------------
# document


def test_text_document_options() -> None:
    block = document(text="Paris is in France.", title="Facts", context="geo", citations=True)
    assert dict(block) == {
        "type": "document",
        "source": {"type": "text", "media_type": "text/plain", "data": "Paris is in France."},
        "title": "Facts",
        "context": "geo",
        "citations": {"enabled": True},
    }
    assert nbclaude.document is document


def test_pdf_from_path_bytes_and_pathlib(tmp_path: Path) -> None:
    path = tmp_path / "paper.pdf"
    path.write_bytes(PDF)
    for src in (path, str(path), PDF, bytearray(PDF)):
        block = document(src)
        assert block["source"]["type"] == "base64"
        assert block["source"]["media_type"] == "application/pdf"
        assert base64.b64decode(block["source"]["data"]) == PDF
        assert block.pages == 2
        assert block.size == len(PDF)


def test_text_files(tmp_path: Path) -> None:
    for name in ("a.txt", "b.md"):
        path = tmp_path / name
        path.write_bytes("\ufeffhéllo".encode())
        assert document(str(path))["source"]["data"] == "héllo"  # BOM dropped
    bad = tmp_path / "latin.txt"
    bad.write_bytes("caf\xe9".encode("latin-1"))
    with pytest.raises(ImageError, match=r"latin\.txt: not UTF-8 text"):
        document(bad)
    blank = tmp_path / "blank.txt"
    blank.write_text("  \n")
    with pytest.raises(ImageError, match="empty"):
        document(blank)


def test_document_refuses_guesses(tmp_path: Path) -> None:
    with pytest.raises(ImageError, match="no such file") as e:
        document("Some text that is not a path")
    assert "relative paths" in str(e.value)
    other = tmp_path / "data.xlsx"
    other.write_bytes(b"PK\x03\x04 not a pdf")
    with pytest.raises(ImageError, match=r"data\.xlsx: not a PDF .* and not a text file"):
        document(other)
    with pytest.raises(ImageError, match="bytes: not a PDF"):
        document(b"hello")
    with pytest.raises(TypeError, match="exactly one"):
        document()
    with pytest.raises(TypeError, match="exactly one"):
        document(PDF, text="x")
    with pytest.raises(TypeError, match="title"):
        document(text="x", title=3)  # type: ignore[arg-type]
    with pytest.raises(ImageError, match="empty"):
        document(text=" ")
    with pytest.raises(ImageError, match="unsupported URL scheme"):
        document("ftp://example.com/a.pdf")


def test_document_urls_and_dicts() -> None:
    block = document("https://example.com/paper.pdf?sig=SECRET", title="Paper")
    assert block["source"] == {"type": "url", "url": "https://example.com/paper.pdf?sig=SECRET"}
    assert "SECRET" not in repr(block)
    data_url = "data:application/pdf;base64," + base64.b64encode(PDF).decode()
    assert base64.b64decode(document(data_url)["source"]["data"]) == PDF
    plain = {"type": "document", "source": {"type": "url", "url": "https://x.org/a.pdf"}}
    again = document(plain, citations=False)
    assert again["citations"] == {"enabled": False}
    assert "citations" not in plain
    with pytest.raises(ImageError, match="not a document block"):
        document({"type": "image", "source": {}})


def test_document_block_object(tmp_path: Path) -> None:
    block = document(PDF, title="Paper")
    assert repr(block) == f'<document application/pdf, 2 pages, {len(PDF)} B, "Paper">'
    assert block._repr_mimebundle_() == {"text/plain": repr(block)}
    assert json.loads(json.dumps(block)) == dict(block)
    for clone in (copy.deepcopy(block), pickle.loads(pickle.dumps(block))):
        assert type(clone) is DocumentBlock
        assert clone == block
        assert clone.pages == 2
    path = tmp_path / "report.pdf"
    path.write_bytes(PDF)
    assert repr(document(path)).endswith("report.pdf)>")
    assert repr(document(text="abc")) == "<document text/plain, 3 characters>"


def test_pdf_too_big(monkeypatch: pytest.MonkeyPatch) -> None:
    from nbclaude._content import documents as _documents

    monkeypatch.setattr(_documents, "LIMITS", {**_documents.LIMITS, "max_body_bytes": 300})
    with pytest.raises(ImageError, match="too big"):
        document(PDF)


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body, ctype = {
            "/paper.pdf": (PDF, "application/pdf"),
            "/notes": ("Grüße".encode(), "text/plain; charset=utf-8"),
            "/latin": ("Grüße".encode("latin-1"), "text/plain; charset=iso-8859-1"),
            "/page": (b"<html></html>", "application/json"),
        }.get(self.path, (b"", ""))
        if not ctype:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_document_fetch(server: str) -> None:
    block = document(f"{server}/paper.pdf", fetch=True)
    assert base64.b64decode(block["source"]["data"]) == PDF
    assert document(f"{server}/notes", fetch=True)["source"]["data"] == "Grüße"
    assert document(f"{server}/latin", fetch=True)["source"]["data"] == "Grüße"
    with pytest.raises(ImageError, match="the server sent application/json"):
        document(f"{server}/page", fetch=True)
    with pytest.raises(ImageError, match="HTTP 404"):
        document(f"{server}/nothing.pdf", fetch=True)


# ---------------------------------------------------------------------------------------------
# fit_messages: the request guard rail


def wide_png() -> bytes:
    return png((2500, 100))


def user(*content: Any) -> dict[str, Any]:
    return {"role": "user", "content": list(content)}


def test_few_images_untouched() -> None:
    big = b64_image(wide_png())
    messages = [user(text("look"), big), {"role": "assistant", "content": "ok"}]
    fitted = fit_messages(messages)
    assert fitted == messages
    assert all(a is b for a, b in zip(fitted, messages, strict=True))
    assert fitted is not messages


def test_more_than_20_images_are_fitted_to_2000px() -> None:
    big = b64_image(wide_png())
    small = b64_image(png())
    url = {"type": "image", "source": {"type": "url", "url": "https://x.org/huge.png"}}
    messages = [user(text(f"img {i}"), small) for i in range(19)]
    messages.append(user(big, url))
    messages.append({"role": "assistant", "content": "ok"})
    before = copy.deepcopy(messages)
    fitted = fit_messages(messages)
    assert messages == before  # pure: the input is untouched
    assert all(fitted[i] is messages[i] for i in range(19))  # unchanged messages shared
    assert fitted[20] is messages[20]
    new_big, kept_url = fitted[19]["content"]
    assert kept_url is url  # a URL image cannot be checked
    info = image_info(new_big)
    assert info is not None
    assert (info.width, info.height) == (2000, 80)
    assert fit_messages(fitted) == fitted  # idempotent


def test_tool_result_images_count_and_are_fitted() -> None:
    big = b64_image(wide_png())
    inner = {"type": "tool_result", "tool_use_id": "t1", "content": [text("chart"), big]}
    messages = [user(b64_image(png())) for _ in range(20)] + [user(inner)]
    fitted = fit_messages(messages)
    new_inner = fitted[20]["content"][0]
    assert new_inner is not inner
    assert new_inner["tool_use_id"] == "t1"
    assert new_inner["content"][0] is inner["content"][0]
    assert image_info(new_inner["content"][1]).width == 2000  # type: ignore[union-attr]
    assert inner["content"][1] is big


def test_oversized_single_image_is_refitted() -> None:
    rng = np.random.default_rng(1)
    noisy = rng.integers(0, 256, (1900, 1900, 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(noisy).save(buf, "PNG", compress_level=0)
    block = b64_image(buf.getvalue())
    assert len(block["source"]["data"]) > MAX_BASE64
    fitted = fit_messages([user(block)])
    new = fitted[0]["content"][0]
    assert len(new["source"]["data"]) <= MAX_BASE64
    too_wide = b64_image(png((9000, 10)))
    info = image_info(fit_messages([user(too_wide)])[0]["content"][0])
    assert info is not None
    assert info.width == 8000


def test_more_than_100_images_refused() -> None:
    url = {"type": "image", "source": {"type": "url", "url": "https://x.org/a.png"}}
    with pytest.raises(InvalidRequestError, match=r"101 images.*at most 100") as e:
        fit_messages([user(url) for _ in range(101)])
    assert e.value.hint
    assert len(fit_messages([user(url) for _ in range(100)])) == 100
    assert len(fit_messages([user(url) for _ in range(101)], max_images=600)) == 101


def test_body_over_32_mb_refused() -> None:
    head = png()
    data = base64.b64encode(head).decode()
    padded = data + "A" * (MAX_BASE64 - len(data) - 4)  # a 5 MB base64 image (header intact)
    block = {
        "type": "image",
        "source": {"type": "base64", "media_type": "image/png", "data": padded},
    }
    assert fit_messages([user(block) for _ in range(6)])  # ~31.5 MB: accepted
    with pytest.raises(InvalidRequestError, match=r"about 3\d\.\d MB.*at most 32"):
        fit_messages([user(block) for _ in range(7)])
    with pytest.raises(InvalidRequestError, match="at most 32"):
        fit_messages([user(block) for _ in range(6)], overhead=3_000_000)


def test_body_size_near_the_limit_is_measured_exactly() -> None:
    # 11 M non-ASCII characters: 22 MB of UTF-8, between the cheap bounds (11 MB .. 66 MB)
    many = "é" * 11_000_000
    assert fit_messages([user(text(many))])
    with pytest.raises(InvalidRequestError, match="at most 32"):
        fit_messages([user(text(many + many))])


def test_plain_string_content_is_fine() -> None:
    messages = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]
    assert fit_messages(messages) == messages
