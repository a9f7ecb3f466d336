"""The widget protocol is written once per side: js/protocol.js must say what _protocol says."""

from __future__ import annotations

import json
import re
from pathlib import Path

from nbclaude import _protocol as proto

JS = (Path(__file__).parent.parent / "js" / "protocol.js").read_text(encoding="utf-8")


def js_table(name: str) -> dict[str, str]:
    match = re.search(rf"export const {name} = Object\.freeze\(\{{(.*?)\}}\);", JS, re.S)
    assert match, f"{name} not found in js/protocol.js"
    return dict(re.findall(r"^\s*([A-Z_]+): \"([a-z_]+)\",", match.group(1), re.M))


def test_message_kinds_match_the_front_end() -> None:
    assert js_table("FROM_VIEW") == dict(proto.FROM_VIEW)
    assert js_table("TO_VIEW") == dict(proto.TO_VIEW)


def test_kinds_are_unique() -> None:
    kinds = [*proto.FROM_VIEW.values(), *proto.TO_VIEW.values()]
    assert len(kinds) == len(set(kinds))


def test_limits_match_the_front_end() -> None:
    match = re.search(r"MAX_UPLOAD_BYTES = (\d+) \* (\d+) \* (\d+);", JS)
    assert match
    a, b, c = (int(x) for x in match.groups())
    assert a * b * c == proto.MAX_UPLOAD_BYTES
    types = re.search(r"IMAGE_TYPES = Object\.freeze\((\[.*?\])\);", JS)
    assert types
    assert tuple(json.loads(types.group(1))) == proto.IMAGE_TYPES


def test_entries_are_json() -> None:
    entries = proto.transcript(
        [
            {"role": "user", "content": [{"type": "text", "text": "Hi"}]},
            {"role": "assistant", "content": "Hello"},
        ]
    )
    assert json.loads(json.dumps(entries)) == [
        {"role": "user", "blocks": [{"type": "text", "text": "Hi"}]},
        {"role": "assistant", "blocks": [{"type": "text", "text": "Hello"}]},
    ]


def test_banner_never_carries_secrets() -> None:
    from nbclaude import AuthenticationError

    err = AuthenticationError(
        "invalid x-api-key",
        status_code=401,
        type="authentication_error",
        request_id="req_9",
        headers={"x-api-key": "sk-ant-secret"},
    )
    banner = proto.banner(err, retry=True)
    assert "sk-ant-secret" not in json.dumps(banner)
    assert banner["request_id"] == "req_9"
