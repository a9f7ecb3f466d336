"""The fake's collaborators take callables, never the fake: the loopback server plays whatever
``respond`` answers, the batch store answers requests and makes ids through what it is given."""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Any

import httpx
import pytest

from nbclaude.testing import FakeAnthropic, FakeServer
from nbclaude.testing._batch_request import answer
from nbclaude.testing._batches import FakeBatches
from nbclaude.testing._incoming import Incoming
from nbclaude.testing._models import ModelRegistry
from nbclaude.testing._plans import Plan, json_plan
from nbclaude.testing._script import ScriptItem, Text


def test_the_server_plays_what_respond_answers() -> None:
    seen: list[tuple[str, str, dict[str, str], bytes]] = []

    def respond(method: str, target: str, headers: Mapping[str, str], body: bytes) -> Plan:
        seen.append((method, target, dict(headers), body))
        return json_plan(201, {"echo": body.decode()})

    with FakeServer(respond) as server, httpx.Client(base_url=server.url) as c:
        r = c.post("/anything?x=1", content=b"hello", headers={"X-Custom": "v"})
    assert r.status_code == 201 and r.json() == {"echo": "hello"}
    assert server.respond is respond
    [(method, target, headers, body)] = seen
    assert (method, target, body) == ("POST", "/anything?x=1", b"hello")
    assert headers["x-custom"] == "v"  # names in lower case


def test_the_server_wants_a_callable_not_the_fake() -> None:
    with pytest.raises(TypeError, match=r"callable such as fake\.respond, not FakeAnthropic"):
        FakeServer(FakeAnthropic())  # type: ignore[arg-type]


def test_the_batch_store_uses_the_callables_it_is_given() -> None:
    calls: list[tuple[dict[str, Any], bool]] = []

    def answer_one(params: dict[str, Any], beta: bool) -> dict[str, Any]:
        calls.append((params, beta))
        return {"type": "succeeded", "message": {"id": "msg_stub"}}

    batches = FakeBatches(answer_one, lambda prefix: f"{prefix}_stub")
    body = b'{"requests": [{"custom_id": "a", "params": {"model": "m"}}]}'
    plan = batches.create(Incoming("/v1/messages/batches", {}, {}, body, "req_1", "http://h"))
    assert plan.status == 200 and list(batches) == ["msgbatch_stub"]
    assert calls == []  # nothing is answered before time passes
    batches.advance()
    assert calls == [({"model": "m"}, False)]
    assert batches["msgbatch_stub"]["request_counts"]["succeeded"] == 1


def test_one_batch_request_takes_a_script_item_only_when_valid() -> None:
    taken: list[ScriptItem | None] = []
    script = [Text("scripted")]

    def take() -> ScriptItem | None:
        item = script.pop(0) if script else None
        taken.append(item)
        return item

    count = itertools.count(1)

    def ask(params: dict[str, Any]) -> dict[str, Any]:
        return answer(
            params,
            beta=False,
            registry=ModelRegistry(),
            take=take,
            next_id=lambda prefix: f"{prefix}_{next(count)}",
        )

    bad = ask({"model": "claude-haiku-4-5", "max_tokens": 10, "messages": []})
    assert bad["type"] == "errored" and taken == []
    ok = ask(
        {
            "model": "claude-haiku-4-5",
            "max_tokens": 10,
            "messages": [{"role": "user", "content": "Hi"}],
        }
    )
    assert ok["type"] == "succeeded" and len(taken) == 1
    assert ok["message"]["content"][0]["text"] == "scripted"
    assert ok["message"]["id"] == "msg_1" and ok["message"]["usage"]["service_tier"] == "batch"
