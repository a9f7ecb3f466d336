"""Pickles of image and document blocks: new ones name one stable path, v1 ones keep loading.

The byte strings below were made by nbclaude 0.1 itself (``pickle.dumps`` of blocks made by
``nbclaude.image`` / ``nbclaude.document`` at the commits that had those modules), and are kept
here literally, so a test never depends on the old code being around.
"""

from __future__ import annotations

import copy
import io
import pickle
import pickletools
import subprocess
import sys
import time
from typing import Any

import pytest
from PIL import Image

from nbclaude import _legacy
from nbclaude._content import DocumentBlock, document
from nbclaude._content.documents import rebuild_document
from nbclaude._content.images import ImageBlock, image
from nbclaude._content.images.block import rebuild_image_block

RED_PNG = (
    "iVBORw0KGgoAAAANSUhEUgAAAAQAAAADCAIAAAA7ljmRAAAAEElEQVR4nGP8z4AATAy4OAAmdgEF5PO41QAAAABJRU5Erk"
    "Jggg=="
)
PDF_B64 = "JVBERi0xLjQKMSAwIG9iaiA8PCAvVHlwZSAvUGFnZSA+PiBlbmRvYmoKJSVFT0YK"

#: A 4x3 PNG from ``image(...)``, origin and original size set, ``pickle.dumps(protocol=4)``
#: at a15d342 (the last v1 commit): names ``nbclaude._image_block._rebuild_block``.
V1_IMAGE_BLOCK = (
    b"\x80\x04\x95\xf7\x00\x00\x00\x00\x00\x00\x00\x8c\x15nbclaude._image_block\x94\x8c\x0e"
    b"_rebuild_block\x94\x93\x94(}\x94(\x8c\x04type\x94\x8c\x05image\x94\x8c\x06source\x94}\x94(h"
    b"\x04\x8c\x06base64\x94\x8c\nmedia_type\x94\x8c\timage/png\x94\x8c\x04data\x94\x8cd"
    b"iVBORw0KGgoAAAANSUhEUgAAAAQAAAADCAIAAAA7ljmRAAAAEElEQVR4nGP8z4AATAy4OAAmdgEF5PO41QAAAABJRU5Erk"
    b"Jggg==\x94uuK\x04K\x03\x8c\x07red.png\x94K\x08K\x06\x86\x94t\x94R\x94."
)
#: A URL image block, ``pickle.dumps(protocol=2)`` before the image modules were split
#: (fdf95f8^): names ``nbclaude._images._rebuild_block``.
V1_IMAGES_URL_BLOCK = (
    b"\x80\x02cnbclaude._images\n_rebuild_block\nq\x00(}q\x01(X\x04\x00\x00\x00typeq\x02X\x05\x00"
    b"\x00\x00imageq\x03X\x06\x00\x00\x00sourceq\x04}q\x05(h\x02X\x03\x00\x00\x00urlq\x06h\x06X"
    b"\x1b\x00\x00\x00https://example.com/cat.jpgq\x07uuNNX\x13\x00\x00\x00example.com/cat.jpg"
    b"q\x08Ntq\tRq\n."
)
#: ``document(text="The grass is green.", title="Facts")``, protocol 4, at a15d342: names
#: ``nbclaude._documents._rebuild_document``.
V1_DOCUMENT = (
    b"\x80\x04\x95\xaa\x00\x00\x00\x00\x00\x00\x00\x8c\x13nbclaude._documents\x94\x8c\x11"
    b"_rebuild_document\x94\x93\x94(}\x94(\x8c\x04type\x94\x8c\x08document\x94\x8c\x06source"
    b"\x94}\x94(h\x04\x8c\x04text\x94\x8c\nmedia_type\x94\x8c\ntext/plain\x94\x8c\x04data\x94"
    b"\x8c\x13The grass is green.\x94u\x8c\x05title\x94\x8c\x05Facts\x94uh\x08NK\x13t\x94R\x94."
)
#: A one-page PDF, ``document(pdf_bytes, title="Paper")``, before the documents module was
#: split out of ``nbclaude._content`` (fbdb4fe^): names ``nbclaude._content._rebuild_document``,
#: once with protocol 2 and once with protocol 0.
V1_CONTENT_PDF = (
    b"\x80\x02cnbclaude._content\n_rebuild_document\nq\x00(}q\x01(X\x04\x00\x00\x00typeq\x02X"
    b"\x08\x00\x00\x00documentq\x03X\x06\x00\x00\x00sourceq\x04}q\x05(h\x02X\x06\x00\x00\x00"
    b"base64q\x06X\n\x00\x00\x00media_typeq\x07X\x0f\x00\x00\x00application/pdfq\x08X\x04\x00"
    b"\x00\x00dataq\tX@\x00\x00\x00JVBERi0xLjQKMSAwIG9iaiA8PCAvVHlwZSAvUGFnZSA+PiBlbmRvYmoKJSVF"
    b"T0YKq\nuX\x05\x00\x00\x00titleq\x0bX\x05\x00\x00\x00Paperq\x0cuX\x05\x00\x00\x00bytesq\r"
    b"K\x01K0tq\x0eRq\x0f."
)
V1_CONTENT_PDF_PROTOCOL_0 = (
    b"cnbclaude._content\n_rebuild_document\np0\n((dp1\nVtype\np2\nVdocument\np3\nsVsource\np4\n"
    b"(dp5\ng2\nVbase64\np6\nsVmedia_type\np7\nVapplication/pdf\np8\nsVdata\np9\n"
    b"VJVBERi0xLjQKMSAwIG9iaiA8PCAvVHlwZSAvUGFnZSA+PiBlbmRvYmoKJSVFT0YK\np10\nssVtitle\np11\n"
    b"VPaper\np12\nsVbytes\np13\nI1\nI48\ntp14\nRp15\n."
)


@pytest.fixture(autouse=True)
def legacy_finder() -> None:
    _legacy.install()  # what nbclaude/__init__.py does on import


def globals_named(data: bytes) -> set[tuple[str, str]]:
    """The (module, name) pairs a pickle looks up."""
    found: set[tuple[str, str]] = set()
    strings: list[str] = []
    for op, arg, _ in pickletools.genops(data):
        if op.name == "GLOBAL":
            module, name = str(arg).split(" ", 1)
            found.add((module, name))
        elif op.name in ("SHORT_BINUNICODE", "BINUNICODE", "UNICODE"):
            strings.append(str(arg))
        elif op.name == "STACK_GLOBAL":
            found.add((strings[-2], strings[-1]))
    return found


def attributes(block: Any) -> tuple[Any, ...]:
    if isinstance(block, ImageBlock):
        return (block.width, block.height, block.origin, block.original_size)
    return (block.origin, block.pages, block.size)


def red_png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (4, 3), (255, 0, 0)).save(buf, "PNG")
    return buf.getvalue()


# --------------------------------------------------------------------------------------------
# New pickles name one stable path


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_image_block_pickles_name_rebuild_image_block(protocol: int) -> None:
    block = image(red_png())
    data = pickle.dumps(block, protocol=protocol)
    assert globals_named(data) == {("nbclaude._content.images.block", "rebuild_image_block")}
    clone = pickle.loads(data)
    assert type(clone) is ImageBlock and clone == block
    assert attributes(clone) == attributes(block) == (4, 3, block.origin, (4, 3))


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_document_block_pickles_name_rebuild_document(protocol: int) -> None:
    block = document(text="The grass is green.", title="Facts")
    data = pickle.dumps(block, protocol=protocol)
    assert globals_named(data) == {("nbclaude._content.documents", "rebuild_document")}
    clone = pickle.loads(data)
    assert type(clone) is DocumentBlock and clone == block
    assert attributes(clone) == attributes(block) == ("text", None, 19)


def test_the_stable_names_are_the_functions_themselves() -> None:
    assert rebuild_image_block.__module__ == "nbclaude._content.images.block"
    assert rebuild_document.__module__ == "nbclaude._content.documents"
    assert ImageBlock.__reduce__(image(red_png()))[0] is rebuild_image_block
    assert DocumentBlock.__reduce__(document(text="x"))[0] is rebuild_document


def test_a_copy_starts_with_no_thumbnails_of_its_own() -> None:
    block = image(red_png())
    thumb = block.thumbnail()
    clone = copy.deepcopy(block)
    assert clone.thumbnail() == thumb  # made again (or found in the shared cache), equal


# --------------------------------------------------------------------------------------------
# v1 pickles keep loading


def test_v1_image_block_pickle_loads() -> None:
    assert globals_named(V1_IMAGE_BLOCK) == {("nbclaude._image_block", "_rebuild_block")}
    block = pickle.loads(V1_IMAGE_BLOCK)
    assert type(block) is ImageBlock
    assert block == {
        "type": "image",
        "source": {"type": "base64", "media_type": "image/png", "data": RED_PNG},
    }
    assert attributes(block) == (4, 3, "red.png", (8, 6))
    assert block.tokens == 1 and repr(block).startswith("<image/png 4\u00d73 (from 8\u00d76), ")
    assert block.thumbnail() is not None  # a whole ImageBlock again, slots and all


def test_v1_images_url_block_pickle_loads() -> None:
    assert globals_named(V1_IMAGES_URL_BLOCK) == {("nbclaude._images", "_rebuild_block")}
    block = pickle.loads(V1_IMAGES_URL_BLOCK)
    assert type(block) is ImageBlock
    assert block == {
        "type": "image",
        "source": {"type": "url", "url": "https://example.com/cat.jpg"},
    }
    assert attributes(block) == (None, None, "example.com/cat.jpg", None)
    assert repr(block) == "<image url https://example.com/cat.jpg>"


def test_v1_document_pickle_loads() -> None:
    assert globals_named(V1_DOCUMENT) == {("nbclaude._documents", "_rebuild_document")}
    block = pickle.loads(V1_DOCUMENT)
    assert type(block) is DocumentBlock
    assert block == document(text="The grass is green.", title="Facts")
    assert attributes(block) == ("text", None, 19)
    assert repr(block) == '<document text/plain, 19 characters, "Facts">'


@pytest.mark.parametrize("data", [V1_CONTENT_PDF, V1_CONTENT_PDF_PROTOCOL_0])
def test_v1_content_document_pickle_loads(data: bytes) -> None:
    assert globals_named(data) == {("nbclaude._content", "_rebuild_document")}
    block = pickle.loads(data)
    assert type(block) is DocumentBlock
    assert block == {
        "type": "document",
        "source": {"type": "base64", "media_type": "application/pdf", "data": PDF_B64},
        "title": "Paper",
    }
    assert attributes(block) == ("bytes", 1, 48)
    assert repr(block) == '<document application/pdf, 1 page, 48 B, "Paper">'


def test_v1_blocks_pickled_again_name_the_new_paths() -> None:
    old = [pickle.loads(V1_IMAGE_BLOCK), pickle.loads(V1_DOCUMENT)]
    assert globals_named(pickle.dumps(old)) == {
        ("nbclaude._content.images.block", "rebuild_image_block"),
        ("nbclaude._content.documents", "rebuild_document"),
    }


# --------------------------------------------------------------------------------------------
# The finder


def test_the_v1_modules_are_stand_ins_for_their_new_homes() -> None:
    import nbclaude._documents as old_documents  # type: ignore[import-not-found]
    import nbclaude._image_block as old_block  # type: ignore[import-not-found]
    import nbclaude._images as old_images  # type: ignore[import-not-found]

    import nbclaude._content.documents as documents
    import nbclaude._content.images as images
    import nbclaude._content.images.block as block

    assert old_block._rebuild_block is old_images._rebuild_block is block.rebuild_image_block
    assert old_documents._rebuild_document is documents.rebuild_document
    assert old_block.ImageBlock is old_images.ImageBlock is ImageBlock
    assert old_images.image is images.image and old_documents.document is document
    assert isinstance(old_block, _legacy.MovedModule)
    assert "kept so that old pickles load" in (old_block.__doc__ or "")
    import nbclaude._content as content

    assert content._rebuild_document is documents.rebuild_document


def test_stand_ins_expose_no_private_names_and_are_no_packages() -> None:
    import nbclaude._image_block as old_block  # type: ignore[import-not-found]

    for name in ("_THUMB_CACHE", "_make_thumbnail", "__path__", "__file__"):
        assert not hasattr(old_block, name), name
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = old_block.nope
    with pytest.raises(ModuleNotFoundError):
        __import__("nbclaude._image_block.block")


def test_only_the_v1_names_are_answered() -> None:
    assert set(_legacy.MOVED) == {
        "nbclaude._image_block",
        "nbclaude._images",
        "nbclaude._documents",
    }
    for name in ("nbclaude._image_bytes", "nbclaude._nope", "nbclaude._content", "_images"):
        assert _legacy.FINDER.find_spec(name) is None, name
    with pytest.raises(ModuleNotFoundError):
        __import__("nbclaude._image_sources")


def test_install_is_idempotent_and_last() -> None:
    _legacy.install()
    _legacy.install()
    assert sys.meta_path.count(_legacy.FINDER) == 1
    assert sys.meta_path.index(_legacy.FINDER) > 0  # after the standard finders


def test_the_finder_costs_nothing_for_other_names() -> None:
    find = _legacy.FINDER.find_spec
    start = time.perf_counter()
    for _ in range(10_000):
        find("nbclaude._session.session")
    assert (time.perf_counter() - start) / 10_000 < 10e-6  # a dict lookup: well under 1 µs


def test_installing_imports_nothing() -> None:
    code = (
        "import sys, nbclaude\n"
        "before = set(sys.modules)\n"
        "import nbclaude._legacy as legacy\n"
        "legacy.install()\n"
        "print(sorted(set(sys.modules) - before))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() in ("['nbclaude._legacy']", "[]")


def test_import_nbclaude_is_enough_for_v1_pickles() -> None:
    code = f"import pickle; print(repr(pickle.loads({V1_DOCUMENT!r})))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == '<document text/plain, 19 characters, "Facts">', out.stderr
