"""The request guard rail: :func:`fit_messages` checks a whole ``messages`` list just before
it is sent, against the limits the API enforces on the request as a whole (docs/api.md §6,
§10.12): how many images, their size when there are many, and the size of the JSON body.

Like :mod:`nbclaude._content.images.image`, importing this module loads no PIL, numpy,
matplotlib or httpx.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from nbclaude._api.limits import LIMITS
from nbclaude._exceptions import ImageError, InvalidRequestError

from .images.block import image_info
from .images.bytes import MAX_BASE64
from .images.image import image
from .images.sources import human_size

__all__ = ["fit_messages"]


def _image_slots(messages: Sequence[Mapping[str, Any]]) -> list[tuple[int, int, int | None]]:
    """(message index, block index, tool_result inner index or None) of every image block."""
    slots: list[tuple[int, int, int | None]] = []
    for i, message in enumerate(messages):
        content = message.get("content")
        if not isinstance(content, list):
            continue
        for j, block in enumerate(content):
            if not isinstance(block, Mapping):
                continue
            if block.get("type") == "image":
                slots.append((i, j, None))
            elif block.get("type") == "tool_result" and isinstance(block.get("content"), list):
                for k, inner in enumerate(block["content"]):
                    if isinstance(inner, Mapping) and inner.get("type") == "image":
                        slots.append((i, j, k))
    return slots


def _size_bounds(value: Any) -> tuple[int, int]:
    """(lower, upper) bounds of the UTF-8 JSON size of ``value``, without serialising it.

    O(number of values): string lengths are O(1) in Python. A string may grow up to 6x in
    JSON (``\\u001f``), except base64 ``data`` of a source, which is plain ASCII.
    """
    lo = hi = 0
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, str):
            lo += len(v) + 2
            hi += 6 * len(v) + 2
        elif isinstance(v, Mapping):
            base64_source = v.get("type") == "base64"
            for k, item in v.items():
                key = len(str(k))
                lo += key + 4
                hi += 6 * key + 4
                if base64_source and k == "data" and isinstance(item, str):
                    lo += len(item) + 2
                    hi += len(item) + 2
                else:
                    stack.append(item)
            lo += 2
            hi += 2
        elif isinstance(v, (list, tuple)):
            stack.extend(v)
            lo += 1 + len(v)
            hi += 2 + len(v)
        else:
            lo += 1
            hi += 32
    return lo, hi


def fit_messages(
    messages: Sequence[Mapping[str, Any]], *, overhead: int = 0, max_images: int | None = None
) -> list[dict[str, Any]]:
    """The request-level guard rail: make ``messages`` acceptable to the API, or refuse.

    Call it on the full ``messages`` list just before sending. It is a pure function: the
    input is never mutated; the result is a new list that shares every message and block it
    did not have to change (so keep the result as the new history, and the work is not
    repeated next turn).

    * More than 20 images in the request: every base64 image with a side over 2000 px is
      downscaled to fit 2000 px (the API's many-image rule). Base64 images over the per-image
      limits (8000 px a side, 5,242,880 base64 characters) are re-fitted too. URL images
      cannot be checked and are left alone. Images inside ``tool_result`` blocks count.
    * More than 100 images: :class:`InvalidRequestError` (nothing is sent).
    * A JSON body over 32 MB: :class:`InvalidRequestError`. The size is bounded cheaply from
      the string lengths; the body is serialised only when the bounds straddle the limit.

    Parameters
    ----------
    messages : sequence of dict
        The ``messages`` about to be sent.
    overhead : int
        Bytes of the rest of the body (``system``, ``tools``, ...), counted toward 32 MB.
    max_images : int, optional
        Images allowed per request: 100 by default (``LIMITS``); the vision docs allow 600
        on 1M-context models (docs/api.md §6), so pass 600 for those.

    Returns
    -------
    list of dict

    Examples
    --------
    >>> msgs = [{"role": "user", "content": "Hi"}]
    >>> fit_messages(msgs) == msgs
    True
    """
    slots = _image_slots(messages)
    if max_images is None:
        max_images = LIMITS["max_images"]
    if len(slots) > max_images:
        raise InvalidRequestError(
            f"This request would hold {len(slots)} images; the API accepts at most "
            f"{max_images} per request. Nothing was sent.",
            hint="Remove images: undo the last turn, or start a new conversation (reset).",
        )
    many = len(slots) > LIMITS["many_images"]
    edge = LIMITS["many_images_edge"] if many else LIMITS["max_image_edge"]
    result: list[dict[str, Any]] = list(messages)  # type: ignore[arg-type]
    copied: set[tuple[int, int]] = set()
    for i, j, k in slots:
        content = result[i]["content"]
        block = content[j] if k is None else content[j]["content"][k]
        fitted = _refit(block, edge)
        if fitted is block:
            continue
        if (i, -1) not in copied:
            result[i] = {**result[i], "content": list(content)}
            copied.add((i, -1))
        new_content = result[i]["content"]
        if k is None:
            new_content[j] = fitted
        else:
            if (i, j) not in copied:
                new_content[j] = {**new_content[j], "content": list(new_content[j]["content"])}
                copied.add((i, j))
            new_content[j]["content"][k] = fitted
    _check_body_size(result, overhead)
    return result


def _refit(block: Mapping[str, Any], edge: int) -> Mapping[str, Any]:
    info = image_info(block)
    if info is None:
        return block  # URL (or file) source: cannot be checked
    too_wide = (
        info.width is not None and info.height is not None and max(info.width, info.height) > edge
    )
    if not too_wide and info.base64_length <= MAX_BASE64:
        return block
    try:
        return image(block, max_edge=edge, max_pixels=edge * edge)
    except ImageError as e:
        raise InvalidRequestError(
            f"An image in the conversation is over the API's limits and cannot be re-fitted "
            f"({e.message}). Nothing was sent.",
            hint="Remove it: undo the turn that added it, or reset the conversation.",
        ) from None


def _check_body_size(messages: list[dict[str, Any]], overhead: int) -> None:
    limit = LIMITS["max_body_bytes"]
    lo, hi = _size_bounds(messages)
    lo += overhead
    hi += overhead + 1024  # model, max_tokens and the rest of the envelope
    if hi <= limit:
        return
    size = lo
    if lo <= limit:
        body = json.dumps(messages, ensure_ascii=False, separators=(",", ":"))
        size = len(body.encode("utf-8")) + overhead + 256
        if size <= limit:
            return
    raise InvalidRequestError(
        f"This request would be about {human_size(size)}; the API accepts at most "
        f"{human_size(limit)} per request. Nothing was sent.",
        hint="Send fewer or smaller images or documents (undo the last turn, or reset).",
    )
