"""Validation of images and documents: media types against the bytes, sizes, counts."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from typing import Any

from nbclaude._api.fields import IMAGE_MEDIA_TYPES
from nbclaude._api.limits import MANY_IMAGES, MANY_IMAGES_EDGE, MAX_IMAGE_BASE64, MAX_IMAGE_EDGE
from nbclaude._api.limits import MAX_IMAGES as MAX_MEDIA

from ._imageinfo import sniff_image
from ._request import DocumentRef, FakeAPIError, ImageRef, ParserState, SearchResultRef, bad

__all__ = ["IMAGE_MEDIA_TYPES", "MAX_IMAGE_BASE64", "MAX_MEDIA", "MediaChecks"]

_PDF_PAGE = re.compile(rb"/Type\s*/Page(?![a-zA-Z])")
_URL_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*):")


def _check_url(url: str, path: str) -> None:
    """The API fetches URL sources itself, over HTTP(S) only: ``file://``, ``data:``,
    ``ftp://`` ... are refused before anything is fetched."""
    m = _URL_SCHEME.match(url)
    scheme = m.group(1).lower() if m else ""
    if scheme not in ("http", "https"):
        # CONSTRUCTED (pydantic style; the API accepts only http(s) URLs)
        raise bad(
            f"{path}: URL scheme should be 'http' or 'https'"
            + (f", not '{scheme}'" if scheme else "")
        )


class MediaChecks(ParserState):
    """Checks of image and document blocks (mixed into the request parser)."""

    def check_block(self, block: Mapping[str, Any], path: str) -> None:
        """Check one content block (defined by the messages checks)."""
        raise NotImplementedError

    def check_image(self, block: Mapping[str, Any], path: str) -> None:
        src = block["source"]
        kind = src["type"]
        ref = ImageRef(path=path, source_type=kind)
        self.images.append(ref)
        if kind == "url":
            if not isinstance(src.get("url"), str):
                raise bad(f"{path}.source.url.url: Field required")  # CONSTRUCTED
            ref.url = src["url"]
            _check_url(src["url"], f"{path}.source.url.url")
            return
        if kind == "file":
            return
        if kind != "base64":
            # CONSTRUCTED
            raise bad(
                f"{path}.source: Input tag '{kind}' found using 'type' does not match any of the "
                "expected tags: 'base64', 'url', 'file'"
            )
        media = src["media_type"]
        data = src.get("data")
        ref.media_type = media
        if not isinstance(data, str):
            raise bad(f"{path}.source.base64.data: Field required")  # CONSTRUCTED
        ref.base64_chars = len(data)
        if len(data) > MAX_IMAGE_BASE64:
            # docs/api.md §5 (the API says "bytes" of the base64 text)
            raise bad(
                f"{path}.source.base64: image exceeds 5 MB maximum: {len(data)} bytes > "
                f"{MAX_IMAGE_BASE64} bytes"
            )
        try:
            raw = base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError):
            # CONSTRUCTED
            raise bad(f"{path}.source.base64.data: The image data is not valid base64.") from None
        info = sniff_image(raw)
        if info is None or info.width is None:
            raise bad(f"{path}.source.base64.data: Could not process image")  # CONSTRUCTED
        if info.media_type != media:
            # real (issues, 2026): newer form of "…data: Image does not match the provided
            # media type image/png"
            raise bad(
                f"{path}.source.base64: The image was specified using the {media} media type, "
                f"but the image appears to be a {info.media_type} image"
            )
        ref.info = info

    def check_document(self, block: Mapping[str, Any], path: str) -> None:
        src = block["source"]
        kind = src["type"]
        cites = block.get("citations")
        ref = DocumentRef(
            path=path,
            source_type=kind,
            title=block.get("title"),
            citations=isinstance(cites, Mapping) and cites.get("enabled") is True,
        )
        self.documents.append(ref)
        if kind == "base64":
            media = src.get("media_type")
            ref.media_type = media
            if media != "application/pdf":
                # CONSTRUCTED
                raise bad(f"{path}.source.base64.media_type: Input should be 'application/pdf'")
            data = src.get("data")
            if not isinstance(data, str):
                raise bad(f"{path}.source.base64.data: Field required")  # CONSTRUCTED
            ref.chars = len(data)
            try:
                raw = base64.b64decode(data, validate=True)
            except (binascii.Error, ValueError):
                # CONSTRUCTED
                raise bad(f"{path}.source.base64.data: The PDF specified was not valid.") from None
            if not raw.startswith(b"%PDF-"):
                raise bad(
                    f"{path}.source.base64.data: The PDF specified was not valid."
                )  # CONSTRUCTED
            ref.pages = max(1, len(_PDF_PAGE.findall(raw)))
            ref.raw = raw
        elif kind == "text":
            data = src.get("data")
            if not isinstance(data, str):
                raise bad(f"{path}.source.text.data: Field required")  # CONSTRUCTED
            ref.media_type = src.get("media_type", "text/plain")
            ref.chars = len(data)
            ref.text = data
            ref.pages = 1
            self.texts.append(data)
        elif kind == "content":
            content = src.get("content")
            ref.pages = 1
            if isinstance(content, str):
                ref.text = content
                ref.blocks = [content]
                self.texts.append(content)
            elif isinstance(content, list):
                for k, inner in enumerate(content):
                    if isinstance(inner, Mapping) and inner.get("type") in ("text", "image"):
                        self.check_block(inner, f"{path}.source.content.content.{k}")
                        ref.blocks.append(str(inner.get("text", "")))
        elif kind == "url":
            ref.pages = 1
            if isinstance(src.get("url"), str):
                _check_url(src["url"], f"{path}.source.url.url")

    def check_search_result(self, block: Mapping[str, Any], path: str) -> None:
        """A ``search_result`` block: ``source``, ``title`` and text ``content`` blocks."""
        for key in ("source", "title", "content"):
            if key not in block:
                raise bad(f"{path}.search_result.{key}: Field required")  # CONSTRUCTED
        content = block["content"]
        if not isinstance(content, list) or not all(
            isinstance(b, Mapping) and b.get("type") == "text" and isinstance(b.get("text"), str)
            for b in content
        ):
            # CONSTRUCTED (pydantic style)
            raise bad(f"{path}.search_result.content: Input should be a valid list of text blocks")
        cites = block.get("citations")
        texts = [str(b["text"]) for b in content]
        self.texts.extend(texts)
        self.search_results.append(
            SearchResultRef(
                source=str(block["source"]),
                title=str(block["title"]),
                blocks=texts,
                citations=isinstance(cites, Mapping) and cites.get("enabled") is True,
            )
        )

    def check_media_limits(self) -> None:
        n_images = len(self.images)
        n_docs = len(self.documents)
        if n_images + n_docs > MAX_MEDIA:
            # real (issues)
            raise bad(f"too many images and documents: {n_images} + {n_docs} > {MAX_MEDIA}")
        pages = sum(d.pages for d in self.documents if d.media_type == "application/pdf")
        if pages + n_images > MAX_MEDIA:
            # real (issues)
            raise bad(f"Too much media: {pages} document pages + {n_images} images > {MAX_MEDIA}")
        many = n_images > MANY_IMAGES
        for limit, text in (
            (MAX_IMAGE_EDGE, ""),
            (MANY_IMAGES_EDGE if many else MAX_IMAGE_EDGE, " for many-image requests"),
        ):
            over = [
                ref
                for ref in self.images
                if ref.info is not None
                and ref.info.width is not None
                and ref.info.height is not None
                and max(ref.info.width, ref.info.height) > limit
            ]
            if over:
                raise FakeAPIError(  # docs/api.md §5; details as SDK 2.17 types them
                    400,
                    "invalid_request_error",
                    f"{over[0].path}.source.base64.data: At least one of the image dimensions "
                    f"exceed max allowed size{text}: {limit} pixels",
                    details={
                        "error_code": "image_dimensions_too_large",
                        "max_side_length_pixels": limit,
                        "paths": [ref.path.removesuffix(".image") for ref in over],
                    },
                )
