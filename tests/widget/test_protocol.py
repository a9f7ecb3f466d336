"""The widget protocol is written once per side: js/protocol.js must say what _protocol says;
and the transcript trait made from the history (_widget_transcript)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from nbclaude._widget import protocol as proto
from nbclaude._widget import transcript as wt

JS = (Path(__file__).parents[2] / "js" / "protocol.js").read_text(encoding="utf-8")


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
    entries = wt.transcript(
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


def test_declined_text_matches_the_tool_runner() -> None:
    """A declined call loaded from a saved session (a plain dict: the ToolResult's
    attributes are gone) still shows as declined: the text is the tool runner's own."""
    from nbclaude._tools import ToolBox, run_tool_call

    def add(a: int, b: int) -> int:
        """Add."""
        return a + b

    call = {"type": "tool_use", "id": "t1", "name": "add", "input": {"a": 1, "b": 2}}
    result = run_tool_call(call, ToolBox([add]), approve=lambda name, args: False)
    assert wt.tool_status(dict(result)) == "declined"


def _tool_round(result: dict[str, object]) -> list[dict[str, object]]:
    return [
        {"role": "user", "content": "Weather?"},
        {
            "role": "assistant",
            "content": [
                {"type": "text", "text": "Checking."},
                {"type": "tool_use", "id": "toolu_1", "name": "weather", "input": {"city": "Oslo"}},
            ],
        },
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", **result}]},
        {"role": "assistant", "content": "Cold."},
    ]


def test_tool_rounds_fold_into_one_reply() -> None:
    entries = wt.transcript(_tool_round({"content": "-3 C"}))
    assert [e["role"] for e in entries] == ["user", "assistant"]
    assert entries[1]["blocks"] == [
        {"type": "text", "text": "Checking."},
        {
            "type": "tool",
            "id": "toolu_1",
            "name": "weather",
            "input": '{\n  "city": "Oslo"\n}',
            "status": "done",
            "result": "-3 C",
        },
        {"type": "text", "text": "Cold."},
    ]
    # the meta of the last message of the reply is the reply's
    messages = _tool_round({"content": "-3 C"})
    meta: proto.Meta = {"model": "m", "stop_reason": "end_turn"}
    assert wt.transcript(messages, {id(messages[3]): meta})[1]["meta"] == meta


def test_tool_status_from_history() -> None:
    def status(**result: object) -> str:
        (call,) = [
            b for b in wt.transcript(_tool_round(result))[1]["blocks"] if b["type"] == "tool"
        ]
        return call["status"]

    assert status(content="ok") == "done"
    assert status(content="ValueError: x", is_error=True) == "failed"
    assert status(content="The user declined to run this tool.", is_error=True) == "declined"
    # a call without a result: running while the turn runs (from events), else not run
    messages = _tool_round({"content": "x"})[:2]
    assert wt.transcript(messages)[1]["blocks"][1]["status"] == "not run"
    assert wt.transcript(messages, running=True)[1]["blocks"][1]["status"] == "running"
    live = {"toolu_1": {"type": "tool_result", "tool_use_id": "toolu_1", "content": "5 C"}}
    block = wt.transcript(messages, results=live, running=True)[1]["blocks"][1]
    assert (block["status"], block["result"]) == ("done", "5 C")


def test_tool_results_are_text_with_our_own_thumbnails() -> None:
    import numpy as np

    from nbclaude import image

    picture = image(np.zeros((40, 60, 3), dtype=np.uint8))
    content = [
        {"type": "text", "text": "<img src=x onerror=alert(1)>"},
        picture,
        {"type": "image", "source": {"type": "url", "url": "https://attacker.example/x.png"}},
    ]
    (call,) = [
        b
        for b in wt.transcript(_tool_round({"content": content}))[1]["blocks"]
        if b["type"] == "tool"
    ]
    assert call["result"].splitlines() == [
        "<img src=x onerror=alert(1)>",  # text: the front end shows it as text
        "[image (by URL): https://attacker.example/x.png]",
    ]
    (thumb,) = call["images"]
    assert thumb["src"].startswith("data:image/") and (thumb["width"], thumb["height"]) == (60, 40)


def test_long_tool_text_is_cut_for_display() -> None:
    entries = wt.transcript(_tool_round({"content": "x" * 50_000}))
    result = entries[1]["blocks"][1]["result"]
    assert len(result) < proto.MAX_TOOL_TEXT + 100
    assert result.endswith("(46,000 more characters)")
    one = wt.transcript(_tool_round({"content": "x" * (proto.MAX_TOOL_TEXT + 1)}))
    assert one[1]["blocks"][1]["result"].endswith("(1 more character)")


def test_server_tools_pair_within_the_reply() -> None:
    message = {
        "role": "assistant",
        "content": [
            {
                "type": "server_tool_use",
                "id": "srvtoolu_1",
                "name": "web_search",
                "input": {"query": "q"},
            },
            {
                "type": "web_search_tool_result",
                "tool_use_id": "srvtoolu_1",
                "content": [
                    {"type": "web_search_result", "title": "A page", "url": "https://a.example/"}
                ],
            },
            {"type": "text", "text": "Found it."},
        ],
    }
    (entry,) = wt.transcript([message])
    assert [b["type"] for b in entry["blocks"]] == ["tool", "text"]
    assert entry["blocks"][0]["status"] == "done"
    assert entry["blocks"][0]["result"] == "A page \u2014 https://a.example/"
    failed = {
        **message,
        "content": [
            message["content"][0],
            {
                "type": "web_search_tool_result",
                "tool_use_id": "srvtoolu_1",
                "content": {
                    "type": "web_search_tool_result_error",
                    "error_code": "max_uses_exceeded",
                },
            },
        ],
    }
    (entry,) = wt.transcript([failed])
    assert (entry["blocks"][0]["status"], entry["blocks"][0]["result"]) == (
        "failed",
        "error: max_uses_exceeded",
    )


def test_approval_is_json_text() -> None:
    a = proto.approval("toolu_9", "run<script>", {"code": "<b>x</b>", "n": [1, 2]})
    assert json.loads(a["input"]) == {"code": "<b>x</b>", "n": [1, 2]}
    assert a["name"] == "run<script>"  # shown as text by the front end
    assert set(a) == {"id", "name", "input"}


def test_the_examples_run() -> None:
    import doctest

    from nbclaude._widget import images as _widget_images
    from nbclaude._widget import live as _widget_live
    from nbclaude._widget import tools as _widget_tools

    for module in (proto, wt, _widget_live, _widget_tools, _widget_images):
        failures, tried = doctest.testmod(module)
        assert tried > 0 and failures == 0, module.__name__
