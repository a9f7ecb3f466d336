"""The fake's Message Batches endpoints (``_batches.py``): shapes, results, the list, over
loopback, and the official SDK (test-only) driving them."""

from __future__ import annotations

import doctest
import json
from datetime import timedelta

import httpx
import pytest

import nbclaude.testing._batches as fake_batches
from nbclaude.testing import (
    FakeAnthropic,
    HTTPError,
    Text,
)

from .batch_calls import (
    BATCH_KEYS,
    HEADERS,
    by_id,
    create,
    error_of,
    params,
    parse_time,
    poll,
    requests_of,
    results,
)


@pytest.fixture
def http(client: httpx.Client) -> httpx.Client:
    """Raw httpx on the fake, in process only (conftest's ``http`` adds a loopback twin)."""
    return client


def test_create_answers_a_message_batch_in_progress(http: httpx.Client) -> None:
    batch = create(http, requests_of("a", "b", "c"))
    assert set(batch) == BATCH_KEYS
    assert batch["id"].startswith("msgbatch_") and batch["type"] == "message_batch"
    assert batch["processing_status"] == "in_progress"
    assert batch["request_counts"] == {
        "processing": 3,
        "succeeded": 0,
        "errored": 0,
        "canceled": 0,
        "expired": 0,
    }
    assert batch["results_url"] is None and batch["ended_at"] is None
    assert batch["cancel_initiated_at"] is None and batch["archived_at"] is None
    created, expires = parse_time(batch["created_at"]), parse_time(batch["expires_at"])
    assert expires - created == timedelta(hours=24)


def test_by_default_a_batch_ends_at_its_first_poll(http: httpx.Client, fake: FakeAnthropic) -> None:
    fake.add(Text("one"), Text("two"))
    batch = create(http, requests_of("a", "b"))
    ended = poll(http, batch["id"])
    assert ended["processing_status"] == "ended"
    assert ended["request_counts"]["succeeded"] == 2 and ended["request_counts"]["processing"] == 0
    assert parse_time(ended["ended_at"]) >= parse_time(ended["created_at"])
    assert ended["results_url"] == (
        f"https://api.anthropic.com/v1/messages/batches/{batch['id']}/results"
    )
    got = by_id(results(http, batch["id"]))
    assert [got[c]["message"]["content"][0]["text"] for c in ("r0", "r1")] == ["one", "two"]
    msg = got["r0"]["message"]
    assert msg["type"] == "message" and msg["id"].startswith("msg_")
    assert msg["model"] == "claude-haiku-4-5-20251001" and msg["stop_reason"] == "end_turn"
    assert msg["usage"]["service_tier"] == "batch"


def test_default_reply_answers_when_the_script_is_empty(http: httpx.Client) -> None:
    batch = create(http, requests_of("What is 2+2?"))
    poll(http, batch["id"])
    text = results(http, batch["id"])[0]["result"]["message"]["content"][0]["text"]
    assert text.startswith("*(offline fake") and "What is 2+2?" in text


def test_results_are_shuffled_deterministically_and_complete(
    http: httpx.Client, fake: FakeAnthropic
) -> None:
    for n in (2, 3, 10):
        batch = create(http, requests_of(*[f"q{i}" for i in range(n)]))
        poll(http, batch["id"])
        first = [line["custom_id"] for line in results(http, batch["id"])]
        again = [line["custom_id"] for line in results(http, batch["id"])]
        assert first == again  # deterministic
        assert sorted(first) == sorted(f"r{i}" for i in range(n))
        assert first != [f"r{i}" for i in range(n)]  # never the input order


def test_results_content_type_and_request_ids(http: httpx.Client) -> None:
    batch = create(http, requests_of("a"))
    poll(http, batch["id"])
    r = http.get(f"/v1/messages/batches/{batch['id']}/results")
    assert r.headers["content-type"] == "application/binary"
    assert r.headers["request-id"].startswith("req_")


# -- list -------------------------------------------------------------------------------------


def test_list_is_newest_first_and_paginated(http: httpx.Client) -> None:
    ids = [create(http, requests_of("a"))["id"] for _ in range(5)]
    page = http.get("/v1/messages/batches", params={"limit": 2}).json()
    assert set(page) == {"data", "has_more", "first_id", "last_id"}
    assert [b["id"] for b in page["data"]] == ids[::-1][:2] and page["has_more"]
    assert page["first_id"] == ids[4] and page["last_id"] == ids[3]
    nxt = http.get("/v1/messages/batches", params={"limit": 2, "after_id": ids[3]}).json()
    assert [b["id"] for b in nxt["data"]] == [ids[2], ids[1]] and nxt["has_more"]
    last = http.get("/v1/messages/batches", params={"after_id": ids[1]}).json()
    assert [b["id"] for b in last["data"]] == [ids[0]] and not last["has_more"]
    back = http.get("/v1/messages/batches", params={"limit": 2, "before_id": ids[1]}).json()
    assert [b["id"] for b in back["data"]] == [ids[3], ids[2]] and back["has_more"]
    r = http.get("/v1/messages/batches", params={"limit": 0})
    assert error_of(r)[0] == 400


# -- over loopback, and the official SDK -----------------------------------------------------------


def test_results_url_points_at_the_loopback_server(fake: FakeAnthropic) -> None:
    with fake.serve() as server, httpx.Client(base_url=server.url, headers=HEADERS) as c:
        batch = c.post("/v1/messages/batches", json={"requests": requests_of("a")}).json()
        ended = c.get(f"/v1/messages/batches/{batch['id']}").json()
        assert ended["results_url"] == f"{server.url}/v1/messages/batches/{batch['id']}/results"
        r = c.get(ended["results_url"])
        assert r.status_code == 200 and json.loads(r.text)["custom_id"] == "r0"


def test_the_official_sdk_drives_every_batch_endpoint(fake: FakeAnthropic) -> None:
    anthropic = pytest.importorskip("anthropic")
    fake.batches.pace(per_poll=1)
    fake.add(Text("Paris"), HTTPError(529), Text("Rome"))
    bad = {**params(), "messages": [{"role": "user", "content": ""}]}
    with fake.serve() as server:
        sdk = anthropic.Anthropic(base_url=server.url, api_key=HEADERS["x-api-key"], max_retries=0)
        try:
            batch = sdk.messages.batches.create(
                requests=[
                    {"custom_id": "france", "params": params("Capital of France?")},
                    {"custom_id": "broken", "params": bad},
                    {"custom_id": "busy", "params": params("x")},
                    {"custom_id": "italy", "params": params("Capital of Italy?")},
                ]
            )
            assert batch.processing_status == "in_progress"
            assert batch.request_counts.processing == 4 and batch.results_url is None
            seen = []
            while batch.processing_status != "ended":
                batch = sdk.messages.batches.retrieve(batch.id)
                seen.append(batch.request_counts.succeeded + batch.request_counts.errored)
            assert seen == [1, 2, 3, 4]
            assert batch.ended_at is not None and batch.ended_at >= batch.created_at
            lines = list(sdk.messages.batches.results(batch.id))
            got = {line.custom_id: line.result for line in lines}
            assert [line.custom_id for line in lines] != ["france", "broken", "busy", "italy"]
            assert got["france"].type == "succeeded"
            assert got["france"].message.content[0].text == "Paris"
            assert got["france"].message.usage.service_tier == "batch"
            assert got["italy"].message.content[0].text == "Rome"
            assert got["broken"].type == "errored"
            assert got["broken"].error.error.type == "invalid_request_error"
            assert got["busy"].error.error.type == "overloaded_error"
            listed = list(sdk.messages.batches.list(limit=1))
            assert [b.id for b in listed] == [batch.id]

            second = sdk.messages.batches.create(
                requests=[{"custom_id": f"q{i}", "params": params()} for i in range(3)]
            )
            with pytest.raises(anthropic.BadRequestError):
                sdk.messages.batches.delete(second.id)
            canceling = sdk.messages.batches.cancel(second.id)
            assert canceling.processing_status == "canceling"
            assert canceling.cancel_initiated_at is not None
            ended = sdk.messages.batches.retrieve(second.id)
            assert ended.request_counts.canceled == 3
            assert {r.result.type for r in sdk.messages.batches.results(second.id)} == {"canceled"}
            deleted = sdk.messages.batches.delete(second.id)
            assert deleted.type == "message_batch_deleted" and deleted.id == second.id
            with pytest.raises(anthropic.NotFoundError):
                sdk.messages.batches.retrieve(second.id)
        finally:
            sdk.close()


def test_the_modules_examples_run() -> None:
    failures, tried = doctest.testmod(fake_batches)
    assert tried > 0 and failures == 0
