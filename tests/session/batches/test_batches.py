"""Session.batch and nbclaude._session.batches.submit against the fake API (in process and over loopback):
request bodies, results in input order, errors per item, cancel, interrupts, progress, price."""

from __future__ import annotations

import doctest
import json
import signal
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import KEY

import nbclaude._session.batches.job as batch_job
import nbclaude._session.batches.progress as batch_progress
import nbclaude._session.batches.results as batch_results
import nbclaude._session.batches.submit as batches
from nbclaude import (
    BadRequestError,
    Client,
    InvalidRequestError,
    OverloadedError,
    Reply,
    Session,
)
from nbclaude._api.models import cost
from nbclaude._session.batches.submit import BatchJob, BatchReply, BatchResults, NotProcessed
from nbclaude.testing import FakeAnthropic, HTTPError, Text

MODEL = "claude-haiku-4-5"
BAD_IMAGE = {  # passes through to_blocks untouched; the API rejects it
    "type": "image",
    "source": {"type": "base64", "media_type": "image/bmp", "data": "AAAA"},
}


def make(
    *script: Any, model: str = MODEL, per_poll: int | None = None, **kwargs: Any
) -> tuple[Session, FakeAnthropic]:
    fake = FakeAnthropic(list(script), api_key=KEY)
    if per_poll is not None:
        fake.batches.pace(per_poll=per_poll)
    client = Client(api_key=KEY, transport=fake, max_retries=0)
    return Session(model=model, client=client, **kwargs), fake


def sent(fake: FakeAnthropic) -> list[dict[str, Any]]:
    """The ``requests`` of the (only) batch created."""
    creates = [r for r in fake.requests if r.method == "POST" and r.path == "/v1/messages/batches"]
    assert len(creates) == 1
    return list(creates[0].json["requests"])


def paths(fake: FakeAnthropic) -> list[str]:
    return [f"{r.method} {r.path}" for r in fake.requests]


# -- what is sent --------------------------------------------------------------------------------


def test_each_prompt_is_a_standalone_request_with_the_session_settings() -> None:
    s, fake = make(model=MODEL, system="Grade strictly.", max_tokens=300, temperature=0.2)
    s.messages += [
        {"role": "user", "content": "An earlier turn"},
        {"role": "assistant", "content": "that must not be sent"},
    ]
    history = list(s.messages)
    s.batch(["Answer 1", ("Answer", "2")], poll_interval=0, max_tokens=50, stop_sequences=["X"])
    requests = sent(fake)
    assert [r["custom_id"] for r in requests] == ["item-0", "item-1"]
    assert requests[0]["params"] == {
        "model": MODEL,
        "max_tokens": 50,
        "messages": [{"role": "user", "content": "Answer 1"}],
        "system": "Grade strictly.",
        "temperature": 0.2,
        "stop_sequences": ["X"],
    }
    assert requests[1]["params"]["messages"] == [
        {
            "role": "user",
            "content": [{"type": "text", "text": "Answer"}, {"type": "text", "text": "2"}],
        }
    ]
    assert s.messages == history  # nothing recorded, no history sent


def test_images_and_per_batch_model_and_thinking() -> None:
    from PIL import Image

    import nbclaude

    s, fake = make(model="claude-opus-4-5")
    block = nbclaude.image(Image.new("RGB", (40, 30), "red"))
    results = s.batch([["What colour?", block], block], poll_interval=0, model=MODEL, thinking=2000)
    requests = sent(fake)
    first = requests[0]["params"]
    assert first["model"] == MODEL
    assert first["thinking"] == {"type": "enabled", "budget_tokens": 2000}
    assert first["max_tokens"] > 2000  # the session's rule: the reply keeps its allowance
    content = first["messages"][0]["content"]
    assert [b["type"] for b in content] == ["text", "image"]
    assert requests[1]["params"]["messages"][0]["content"][0]["type"] == "image"
    assert isinstance(results[0], BatchReply) and results[0].images == [block]


def test_prefill_is_sent_and_kept_out_of_the_text() -> None:
    s, fake = make(Text("B"), Text("A"))
    results = s.batch(["2+2=5", "2+2=4"], prefill="Grade: ", poll_interval=0)
    params = sent(fake)[0]["params"]
    assert params["messages"][-1] == {"role": "assistant", "content": "Grade:"}
    assert results.texts == ["B", "A"]
    assert results[0].prefill == "Grade:"  # type: ignore[union-attr]


def test_prefill_is_refused_on_models_without_it_and_nothing_is_sent() -> None:
    s, fake = make(model="claude-sonnet-5-5")
    with pytest.raises(InvalidRequestError, match="does not accept prefill"):
        s.batch(["x"], prefill="Grade:")
    assert fake.requests == []


@pytest.mark.parametrize(
    ("prompts", "kwargs", "error", "match"),
    [
        ("one string", {}, TypeError, "list of prompts"),
        ({"a": "b"}, {}, TypeError, "list of prompts"),
        (42, {}, TypeError, "list of prompts"),
        ([], {}, InvalidRequestError, "empty"),
        (["fine", "  "], {}, InvalidRequestError, "Prompt 1 is empty"),
        (["x"], {"stream": True}, TypeError, "'stream' cannot be set"),
        (["x"], {"messages": []}, TypeError, "'messages' cannot be set"),
        (["x"], {"poll_interval": -1}, ValueError, "poll_interval"),
    ],
)
def test_user_mistakes_are_refused_before_sending(
    prompts: Any, kwargs: dict[str, Any], error: type[Exception], match: str
) -> None:
    s, fake = make()
    with pytest.raises(error, match=match):
        s.batch(prompts, **kwargs)
    assert fake.requests == []


def test_batch_limits_are_checked_before_sending(monkeypatch: pytest.MonkeyPatch) -> None:
    s, fake = make()
    monkeypatch.setattr(batches, "MAX_BATCH_REQUESTS", 2)
    with pytest.raises(InvalidRequestError, match="at most 2 requests"):
        s.batch(["a", "b", "c"])
    monkeypatch.setattr(batches, "MAX_BATCH_REQUESTS", 100_000)
    monkeypatch.setattr(batches, "MAX_BATCH_BYTES", 200)
    with pytest.raises(InvalidRequestError, match="256 MB"):
        s.batch(["a" * 300])
    assert fake.requests == []


# -- results -------------------------------------------------------------------------------------


def test_results_in_input_order_with_errors_per_item() -> None:
    s, _fake = make(Text("first"), HTTPError(529), Text("third"), per_poll=1)
    prompts = ["one", "two", ["bad", BAD_IMAGE], "three"]
    results = s.batch(prompts, poll_interval=0)
    assert isinstance(results, BatchResults) and len(results) == 4
    assert results.texts == ["first", None, None, "third"]
    assert isinstance(results[0], BatchReply) and isinstance(results[0], Reply)
    assert results[0].custom_id == "item-0"
    assert repr(results[0]).startswith("BatchReply(model='claude-haiku-4-5-20251001'")
    assert isinstance(results[1], OverloadedError) and results[1].type == "overloaded_error"
    assert isinstance(results[2], BadRequestError)
    assert results[2].status_code == 400 and "media_type" in results[2].message
    assert set(results.replies) == {0, 3} and set(results.errors) == {1, 2}
    assert results.counts == {"succeeded": 2, "errored": 2, "canceled": 0, "expired": 0}
    assert results.not_processed == {} and not results.interrupted
    assert [type(r).__name__ for r in results[1:3]] == ["OverloadedError", "BadRequestError"]


def test_results_are_matched_by_custom_id_not_position() -> None:
    s, fake = make(*(Text(f"answer {i}") for i in range(12)))
    results = s.batch([f"question {i}" for i in range(12)], poll_interval=0)
    raw = next(r for r in fake.requests if r.path.endswith("/results"))
    assert raw.method == "GET"
    job = BatchJob(s.client, fake.batches[results.id])
    order = [json.loads(x)["custom_id"] for x in job.client.request("GET", raw.path).splitlines()]
    assert order != [f"item-{i}" for i in range(12)]  # the fake shuffles...
    assert results.texts == [f"answer {i}" for i in range(12)]  # ...and we put them back


def test_usage_and_cost_at_the_batch_price_go_into_the_session() -> None:
    s, _ = make(Text("alpha beta"), Text("gamma"))
    results = s.batch(["a", "b"], poll_interval=0)
    reply = results[0]
    assert isinstance(reply, BatchReply)
    assert reply.usage["service_tier"] == "batch"
    standard = cost(reply.model, {**reply.usage, "service_tier": "standard"})
    assert standard and reply.cost == pytest.approx(standard / 2)
    assert reply.footer().endswith("· batch")
    assert results.cost == pytest.approx(sum(r.cost for r in results.replies.values()))
    usage = results.usage
    assert usage["input_tokens"] > 0 and usage["output_tokens"] > 0
    assert s.usage["input_tokens"] == usage["input_tokens"]
    assert s.usage["output_tokens"] == usage["output_tokens"]
    assert s.cost == pytest.approx(results.cost)
    events: list[str] = []
    s.subscribe(lambda e: events.append(e["type"]))
    job = BatchJob.attach(results.id, session=s)  # fetching the same batch again...
    job.results()
    job.results()
    assert s.usage["input_tokens"] == usage["input_tokens"]  # ...is not counted twice
    assert events == []


def test_an_unknown_price_makes_the_cost_unknown() -> None:
    s, _ = make(model="claude-mythos-5-2")
    results = s.batch(["a"], poll_interval=0)
    assert results.cost is None and s.cost is None
    assert "$" not in results.summary()


# -- waiting, progress, cancel, interrupt -----------------------------------------------------------


def test_wait_false_gives_a_job_to_poll_cancel_and_wait_for() -> None:
    s, fake = make(Text("done"), per_poll=0)
    job = s.batch(["a", "b", "c"], wait=False)
    assert isinstance(job, BatchJob) and job.id.startswith("msgbatch_")
    assert job.processing_status == "in_progress" and not job.done and len(job) == 3
    assert repr(job) == f"<BatchJob {job.id} in_progress: 0 of 3 done>"
    with pytest.raises(InvalidRequestError, match=r"still in_progress \(0 of 3 requests done\)"):
        job.results()
    fake.batches.advance(job.id, 1)
    assert job.status()["request_counts"]["succeeded"] == 1
    assert job.cancel()["processing_status"] == "canceling"
    results = job.wait(poll_interval=0)
    assert job.done and results is job.results()
    assert results.texts == ["done", None, None]
    assert results.not_processed == {
        1: NotProcessed("canceled", "item-1"),
        2: NotProcessed("canceled", "item-2"),
    }
    assert not results[1] and not results.interrupted


def test_canceling_a_batch_that_just_ended_is_not_an_error() -> None:
    s, fake = make()
    job = s.batch(["a"], wait=False)
    fake.batches.advance(job.id)  # ends while the job still thinks it is in progress
    assert job.cancel()["processing_status"] == "ended"
    assert job.results().counts["succeeded"] == 1


def test_an_interrupt_while_polling_cancels_and_returns_what_finished() -> None:
    s, fake = make(Text("kept"), per_poll=1)
    polls: list[int] = []

    def on_poll(batch: dict[str, Any]) -> None:
        polls.append(batch["request_counts"]["succeeded"])
        if len(polls) == 1:
            raise KeyboardInterrupt

    job = s.batch(["a", "b", "c"], wait=False)
    results = job.wait(poll_interval=0, on_poll=on_poll)
    assert polls == [1]  # on_poll is not called while waiting for the cancel
    assert results.interrupted and job.interrupted
    assert results.texts == ["kept", None, None]
    assert [r.status for r in results.not_processed.values()] == ["canceled", "canceled"]
    assert f"POST /v1/messages/batches/{job.id}/cancel" in paths(fake)
    assert "interrupted" in repr(results) and "Interrupted" in results._repr_html_()


def test_expired_requests_are_marked() -> None:
    s, fake = make(per_poll=1)

    def expire(batch: dict[str, Any]) -> None:
        fake.batches.expire(batch["id"])

    job = s.batch(["a", "b"], wait=False)
    results = job.wait(poll_interval=0, on_poll=expire)
    assert results.counts == {"succeeded": 1, "errored": 0, "canceled": 0, "expired": 1}
    assert results[1] == NotProcessed("expired", "item-1")


def test_polls_back_off_from_1_to_30_seconds(monkeypatch: pytest.MonkeyPatch) -> None:
    s, _ = make(per_poll=1)
    slept: list[float] = []
    monkeypatch.setattr(batch_job.time, "sleep", slept.append)
    s.batch(["a"] * 12)
    assert slept == pytest.approx(
        [1.0, 1.5, 2.25, 3.375, 5.0625, 7.59375, 11.390625, 17.0859375, 25.62890625, 30, 30, 30]
    )
    slept.clear()
    s.batch(["a"] * 3, poll_interval=2)
    assert slept == [2, 2, 2]


def test_the_progress_bar_advances_with_the_counts() -> None:
    s, _fake = make(Text("a"), HTTPError(529), per_poll=1)
    job = s.batch(["a", "b", "c", "d"], wait=False)
    seen: list[tuple[int, int, str]] = []

    def record(batch: dict[str, Any]) -> None:
        bar, label = job.widget.children
        seen.append((bar.value, bar.max, label.value))

    job.wait(poll_interval=0, progress=True, on_poll=record)
    assert [v for v, _, _ in seen] == [1, 2, 3, 4]
    assert {m for _, m, _ in seen} == {4}
    assert seen[0][2].startswith("1 succeeded · 0 errored · 3 processing · 0:0")
    assert seen[-1][2].startswith("done: 3 succeeded · 1 errored · 0:0")
    assert job.widget.children[0].bar_style == "warning"  # finished, with an error


def test_the_progress_bar_with_counts_that_only_move_at_the_end() -> None:
    s, fake = make(per_poll=1)
    fake.batches.pace(per_poll=1, live_counts=False)
    job = s.batch(["a", "b", "c"], wait=False)
    values: list[int] = []
    job.wait(
        poll_interval=0,
        progress=True,
        on_poll=lambda b: values.append(job.widget.children[0].value),
    )
    assert values == [0, 0, 3]
    assert job.widget.children[0].bar_style == "success"


def test_no_progress_bar_outside_a_kernel_unless_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    s, _ = make()
    job = s.batch(["a"], wait=False)
    job.wait(poll_interval=0)
    assert job.widget is None
    shown: list[Any] = []
    monkeypatch.setattr(batch_progress, "in_kernel", lambda: True)
    monkeypatch.setattr("IPython.display.display", shown.append)
    job = s.batch(["a"], wait=False)
    job.wait(poll_interval=0)
    assert shown == [job.widget] and job.widget is not None
    job = s.batch(["a"], wait=False)
    job.wait(poll_interval=0, progress=False)
    assert job.widget is None and len(shown) == 1


def test_attach_puts_our_batches_in_input_order() -> None:
    s, _fake = make(*(Text(str(i)) for i in range(12)))
    job = s.batch([f"q{i}" for i in range(12)], wait=False)
    again = BatchJob.attach(job.id, session=s)
    assert len(again) == 12
    assert again.wait(poll_interval=0).texts == [str(i) for i in range(12)]


# -- display safety ----------------------------------------------------------------------------------


def test_the_summary_table_shows_model_text_as_escaped_text() -> None:
    evil = "<script>alert(1)</script> <img src=x onerror=alert(2)> [a](javascript:alert(3)) $x$"
    s, _ = make(Text(evil), HTTPError(400, message="<b>bad</b>"), Text("x" * 2000))
    results = s.batch(["a", "b", "c"], poll_interval=0)
    page = results._repr_html_()
    assert "<script" not in page and "<img" not in page and "<b>bad" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "&lt;b&gt;bad&lt;/b&gt;" in page
    assert "href" not in page and "onerror=alert" in page  # shown as text, inert
    assert "tex2jax_ignore" in page and "mathjax_ignore" in page
    assert "x" * 499 + "…" in page and "x" * 501 not in page
    assert KEY not in page and KEY not in repr(results)


def test_many_rows_are_summarised() -> None:
    s, _ = make()
    results = s.batch([f"q{i}" for i in range(205)], poll_interval=0)
    page = results._repr_html_()
    assert page.count("<tr>") == 1 + 200 + 1 and "… 5 more" in page
    assert results.summary().startswith(f"{results.id} · 205 requests: 205 succeeded · ")


# -- over loopback, with real interrupts -------------------------------------------------------------


@pytest.fixture
def loopback() -> Iterator[tuple[Session, FakeAnthropic]]:
    fake = FakeAnthropic(api_key=KEY)
    with fake.serve() as server:
        client = Client(api_key=KEY, base_url=server.url, max_retries=0)
        yield Session(model=MODEL, client=client), fake
        client.close()


def test_over_loopback_results_come_from_the_results_url(
    loopback: tuple[Session, FakeAnthropic],
) -> None:
    s, fake = loopback
    fake.batches.pace(per_poll=1)
    fake.add(Text("a"), Text("b"), Text("c"))
    results = s.batch(["1", "2", "3"], poll_interval=0)
    assert results.texts == ["a", "b", "c"]
    assert results.batch["results_url"].startswith(s.client.base_url)
    assert paths(fake)[-1] == f"GET /v1/messages/batches/{results.id}/results"


def _interrupt_after(*delays: float) -> list[threading.Timer]:
    main = threading.main_thread().ident
    assert main == threading.get_ident()
    timers = [threading.Timer(d, signal.pthread_kill, args=(main, signal.SIGINT)) for d in delays]
    for t in timers:
        t.start()
    return timers


@pytest.mark.timeout(30)
def test_a_kernel_interrupt_cancels_the_batch_and_returns(
    loopback: tuple[Session, FakeAnthropic],
) -> None:
    s, fake = loopback
    fake.batches.pace(per_poll=0)  # nothing finishes: only the interrupt ends the wait
    timers = _interrupt_after(0.3)
    results = s.batch(["a", "b"], poll_interval=0.02)
    for t in timers:
        t.join()
    assert results.interrupted
    assert results.counts["canceled"] == 2
    assert f"POST /v1/messages/batches/{results.id}/cancel" in paths(fake)


@pytest.mark.timeout(30)
def test_a_second_interrupt_stops_waiting_for_the_cancel(
    loopback: tuple[Session, FakeAnthropic],
) -> None:
    s, fake = loopback
    fake.batches.pace(per_poll=0, cancel_polls=10**9)
    timers = _interrupt_after(0.3, 0.8)
    with pytest.raises(KeyboardInterrupt) as info:
        s.batch(["a", "b"], poll_interval=0.02)
    for t in timers:
        t.join()
    (batch_id,) = fake.batches
    assert fake.batches[batch_id]["processing_status"] == "canceling"
    note = " ".join(getattr(info.value, "__notes__", []))
    assert batch_id in note and "BatchJob.attach" in note
    fake.batches.advance(batch_id)
    assert BatchJob.attach(batch_id, session=s).results().counts["canceled"] == 2


# -- examples ------------------------------------------------------------------------------------


def test_the_examples_run() -> None:
    for module in (batches, batch_job, batch_results, batch_progress):
        failures, tried = doctest.testmod(module)
        assert tried > 0 and failures == 0, module.__name__
    finder = doctest.DocTestFinder()
    runner = doctest.DocTestRunner()
    for test in finder.find(Session.batch, "Session.batch", globs={}):
        runner.run(test)
    assert runner.failures == 0 and runner.tries > 0


# -- in a real kernel -------------------------------------------------------------------------------


@pytest.mark.kernel
@pytest.mark.timeout(120)
def test_in_a_kernel_the_bar_shows_and_an_interrupt_returns_the_results() -> None:
    import os
    import time

    from jupyter_client.manager import KernelManager

    fake = FakeAnthropic([Text("first")], api_key=KEY)
    fake.batches.pace(per_poll=0)
    with fake.serve() as server:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "NBCLAUDE_"))}
        env.update(ANTHROPIC_API_KEY=KEY, ANTHROPIC_BASE_URL=server.url)
        km = KernelManager(kernel_name="python3")
        km.start_kernel(env=env)
        kc = km.client()
        kc.start_channels()
        try:
            kc.wait_for_ready(timeout=60)
            code = (
                "import nbclaude\n"
                "s = nbclaude.Session(model='claude-haiku-4-5')\n"
                "r = s.batch(['a', 'b', 'c'], poll_interval=0.05)\n"
                "r"
            )
            outputs: list[dict[str, Any]] = []
            done: dict[str, Any] = {}

            def execute() -> None:
                done["reply"] = kc.execute_interactive(code, timeout=60, output_hook=outputs.append)

            worker = threading.Thread(target=execute)
            worker.start()
            deadline = time.monotonic() + 30
            while not any(r.path.endswith("/cancel") for r in fake.requests):
                polls = [r for r in fake.requests if r.method == "GET"]
                if len(polls) >= 3 and "interrupted" not in done:
                    km.interrupt_kernel()  # SIGINT, as the notebook's stop button sends
                    done["interrupted"] = True
                assert time.monotonic() < deadline, "the kernel never canceled the batch"
                time.sleep(0.05)
            worker.join(30)
            assert done["reply"]["content"]["status"] == "ok"
            shown = [m["content"]["data"] for m in outputs if m["msg_type"] == "display_data"]
            assert any("application/vnd.jupyter.widget-view+json" in d for d in shown)
            result = next(m for m in outputs if m["msg_type"] == "execute_result")
            page = result["content"]["data"]["text/html"]
            assert "Interrupted" in page and "3 canceled" in page
            assert KEY not in json.dumps([m["content"] for m in outputs], default=str)
        finally:
            kc.stop_channels()
            km.shutdown_kernel(now=True)


def test_structured_output_and_tool_definitions() -> None:
    from dataclasses import dataclass

    @dataclass
    class Grade:
        score: int
        comment: str

    def add(a: int, b: int) -> int:
        """Add two numbers.

        Parameters
        ----------
        a : int
            The first.
        b : int
            The second.
        """
        return a + b

    s, fake = make()
    s.tools = [add]  # the session's tools are not sent: a batch cannot run them
    results = s.batch(["Essay 1", "Essay 2"], poll_interval=0, schema=Grade)
    params = sent(fake)[0]["params"]
    assert "tools" not in params and "schema" not in params
    assert params["output_config"]["format"]["type"] == "json_schema"
    assert set(params["output_config"]["format"]["schema"]["properties"]) == {"score", "comment"}
    grades = [r.data for r in results.replies.values()]
    assert len(grades) == 2 and all(isinstance(g, Grade) for g in grades)

    s2, fake2 = make()
    server_tool = {"type": "web_search_20250305", "name": "web_search"}
    s2.batch(["2+3?"], poll_interval=0, tools=[add, server_tool])
    tools = sent(fake2)[0]["params"]["tools"]
    assert [t["name"] for t in tools] == ["add", "web_search"]
    assert tools[0]["input_schema"]["required"] == ["a", "b"] and tools[1] == server_tool


def test_attach_keeps_the_api_order_for_foreign_custom_ids() -> None:
    s, _fake = make(Text("for zeta"), Text("for alpha"))
    body = {
        "requests": [
            {"custom_id": cid, "params": {"model": MODEL, "max_tokens": 10, "messages": m}}
            for cid, m in (
                ("zeta", [{"role": "user", "content": "z"}]),
                ("alpha", [{"role": "user", "content": "a"}]),
            )
        ]
    }
    created = s.client.request("POST", "/v1/messages/batches", body=body)
    results = BatchJob.attach(created["id"], session=s).wait(poll_interval=0)
    by_id = {r.custom_id: r.text for r in results.replies.values()}
    assert by_id == {"zeta": "for zeta", "alpha": "for alpha"} and len(results) == 2


def test_when_the_cancel_fails_the_interrupt_is_raised_with_a_note() -> None:
    from nbclaude import APIConnectionError

    s, fake = make(per_poll=0)
    job = s.batch(["a"], wait=False)

    def broken_cancel() -> dict[str, Any]:
        raise APIConnectionError("Connection error: refused (after 1 attempt(s)).")

    def interrupt(batch: dict[str, Any]) -> None:
        raise KeyboardInterrupt

    job.cancel = broken_cancel  # type: ignore[method-assign]
    with pytest.raises(KeyboardInterrupt) as info:
        job.wait(poll_interval=0, on_poll=interrupt)
    note = " ".join(getattr(info.value, "__notes__", []))
    assert f"could not cancel batch {job.id}" in note and "refused" in note
    assert fake.batches[job.id]["processing_status"] == "in_progress"
