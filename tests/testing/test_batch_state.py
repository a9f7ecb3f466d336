"""Simulated time in the fake's Message Batches (``_batch_state.py``): pace, advance, expire,
counts, cancel, delete, results before the end."""

from __future__ import annotations

import time

import httpx
import pytest

from nbclaude.testing import (
    FakeAnthropic,
    Text,
)

from .batch_calls import (
    by_id,
    create,
    error_of,
    poll,
    requests_of,
    results,
)


@pytest.fixture
def http(client: httpx.Client) -> httpx.Client:
    """Raw httpx on the fake, in process only (conftest's ``http`` adds a loopback twin)."""
    return client


# -- time --------------------------------------------------------------------------------------


def test_per_poll_finishes_requests_in_input_order(http: httpx.Client, fake: FakeAnthropic) -> None:
    fake.batches.pace(per_poll=2)
    fake.add(*(Text(f"reply {i}") for i in range(5)))
    batch = create(http, requests_of("a", "b", "c", "d", "e"))
    seen = []
    for _ in range(3):
        counts = poll(http, batch["id"])["request_counts"]
        seen.append((counts["succeeded"], counts["processing"]))
    assert seen == [(2, 3), (4, 1), (5, 0)]
    assert fake.batches[batch["id"]]["processing_status"] == "ended"
    got = by_id(results(http, batch["id"]))
    assert [got[f"r{i}"]["message"]["content"][0]["text"] for i in range(5)] == [
        f"reply {i}" for i in range(5)
    ]


def test_list_and_results_do_not_count_as_polls(http: httpx.Client, fake: FakeAnthropic) -> None:
    fake.batches.pace(per_poll=1)
    batch = create(http, requests_of("a", "b"))
    for _ in range(3):
        assert (
            http.get("/v1/messages/batches").json()["data"][0]["request_counts"]["processing"] == 2
        )
        assert http.get(f"/v1/messages/batches/{batch['id']}/results").status_code == 404
    assert fake.batches[batch["id"]]["request_counts"]["processing"] == 2


def test_per_poll_zero_waits_for_advance(http: httpx.Client, fake: FakeAnthropic) -> None:
    fake.batches.pace(per_poll=0)
    batch = create(http, requests_of("a", "b", "c"))
    for _ in range(5):
        assert poll(http, batch["id"])["request_counts"]["processing"] == 3
    fake.batches.advance(batch["id"], 1)
    assert fake.batches[batch["id"]]["request_counts"]["succeeded"] == 1
    fake.batches.advance()
    assert poll(http, batch["id"])["processing_status"] == "ended"


def test_per_second_uses_the_wall_clock(http: httpx.Client, fake: FakeAnthropic) -> None:
    fake.batches.pace(per_second=40)
    batch = create(http, requests_of(*"abcdefgh"))
    assert http.get("/v1/messages/batches").json()["data"][0]["request_counts"]["processing"] == 8
    time.sleep(0.1)  # 4 requests' worth
    counts = http.get("/v1/messages/batches").json()["data"][0]["request_counts"]
    assert 1 <= counts["succeeded"] < 8
    time.sleep(0.25)
    assert poll(http, batch["id"])["processing_status"] == "ended"


def test_documented_counts_stay_zero_until_the_end(http: httpx.Client, fake: FakeAnthropic) -> None:
    fake.batches.pace(per_poll=1, live_counts=False)
    batch = create(http, requests_of("a", "b", "c"))
    assert poll(http, batch["id"])["request_counts"]["processing"] == 3
    assert poll(http, batch["id"])["request_counts"] == {
        "processing": 3,
        "succeeded": 0,
        "errored": 0,
        "canceled": 0,
        "expired": 0,
    }
    assert poll(http, batch["id"])["request_counts"]["succeeded"] == 3


def test_expire_marks_unfinished_requests(http: httpx.Client, fake: FakeAnthropic) -> None:
    fake.batches.pace(per_poll=1)
    batch = create(http, requests_of("a", "b", "c"))
    poll(http, batch["id"])
    fake.batches.expire(batch["id"])
    ended = poll(http, batch["id"])
    assert ended["processing_status"] == "ended"
    assert ended["request_counts"]["succeeded"] == 1 and ended["request_counts"]["expired"] == 2
    got = by_id(results(http, batch["id"]))
    assert got["r1"] == {"type": "expired"} and got["r2"] == {"type": "expired"}


def test_pace_and_advance_reject_nonsense(fake: FakeAnthropic) -> None:
    with pytest.raises(ValueError, match="per_poll"):
        fake.batches.pace(per_poll=-1)
    with pytest.raises(ValueError, match="per_second"):
        fake.batches.pace(per_second=0)
    with pytest.raises(ValueError, match="cancel_polls"):
        fake.batches.pace(cancel_polls=0)
    with pytest.raises(ValueError, match="n must"):
        fake.batches.advance(n=-2)
    with pytest.raises(KeyError):
        fake.batches.advance("msgbatch_nope")


# -- cancel, delete, results before the end, unknown ids ----------------------------------------


def test_cancel_keeps_finished_requests_and_cancels_the_rest(
    http: httpx.Client, fake: FakeAnthropic
) -> None:
    fake.batches.pace(per_poll=1)
    batch = create(http, requests_of("a", "b", "c"))
    poll(http, batch["id"])
    r = http.post(f"/v1/messages/batches/{batch['id']}/cancel")
    canceling = r.json()
    assert canceling["processing_status"] == "canceling"
    assert canceling["cancel_initiated_at"] is not None and canceling["results_url"] is None
    again = http.post(f"/v1/messages/batches/{batch['id']}/cancel").json()
    assert again["processing_status"] == "canceling"  # idempotent while canceling
    assert again["cancel_initiated_at"] == canceling["cancel_initiated_at"]
    ended = poll(http, batch["id"])
    assert ended["processing_status"] == "ended"
    assert ended["request_counts"] == {
        "processing": 0,
        "succeeded": 1,
        "errored": 0,
        "canceled": 2,
        "expired": 0,
    }
    got = by_id(results(http, batch["id"]))
    assert got["r0"]["type"] == "succeeded"
    assert got["r1"] == got["r2"] == {"type": "canceled"}
    r = http.post(f"/v1/messages/batches/{batch['id']}/cancel")
    status, etype, message = error_of(r)
    assert (status, etype) == (400, "invalid_request_error") and "already ended" in message


def test_canceling_can_last_several_polls(http: httpx.Client, fake: FakeAnthropic) -> None:
    fake.batches.pace(per_poll=0, cancel_polls=3)
    batch = create(http, requests_of("a", "b"))
    http.post(f"/v1/messages/batches/{batch['id']}/cancel")
    statuses = [poll(http, batch["id"])["processing_status"] for _ in range(3)]
    assert statuses == ["canceling", "canceling", "ended"]


def test_advance_ends_a_canceling_batch(http: httpx.Client, fake: FakeAnthropic) -> None:
    fake.batches.pace(per_poll=0, cancel_polls=100)
    batch = create(http, requests_of("a"))
    http.post(f"/v1/messages/batches/{batch['id']}/cancel")
    fake.batches.advance(batch["id"])
    assert fake.batches[batch["id"]]["request_counts"]["canceled"] == 1


def test_delete_only_once_ended(http: httpx.Client, fake: FakeAnthropic) -> None:
    batch = create(http, requests_of("a"))
    r = http.delete(f"/v1/messages/batches/{batch['id']}")
    status, _, message = error_of(r)
    assert status == 400 and "cancel it first" in message
    poll(http, batch["id"])
    r = http.delete(f"/v1/messages/batches/{batch['id']}")
    assert r.json() == {"id": batch["id"], "type": "message_batch_deleted"}
    assert len(fake.batches) == 0
    r = http.get(f"/v1/messages/batches/{batch['id']}")
    assert error_of(r)[:2] == (404, "not_found_error")


def test_results_before_the_end_and_unknown_ids(http: httpx.Client) -> None:
    batch = create(http, requests_of("a"))
    r = http.get(f"/v1/messages/batches/{batch['id']}/results")
    status, etype, message = error_of(r)
    assert (status, etype) == (404, "not_found_error") and "not finished processing" in message
    for method, path in [
        ("GET", "/v1/messages/batches/msgbatch_nope"),
        ("GET", "/v1/messages/batches/msgbatch_nope/results"),
        ("POST", "/v1/messages/batches/msgbatch_nope/cancel"),
        ("DELETE", "/v1/messages/batches/msgbatch_nope"),
    ]:
        r = http.request(method, path)
        assert error_of(r) == (
            404,
            "not_found_error",
            "Message Batch msgbatch_nope was not found.",
        ), path
    assert http.post("/v1/messages/batches/x/results").status_code == 404
