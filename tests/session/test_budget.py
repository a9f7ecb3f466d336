"""The budget: Session(budget=USD), $NBCLAUDE_BUDGET and the policy's cap; a request whose
worst case does not fit is refused before it is sent; batches count at the batch price."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from conftest import KEY

from nbclaude import BudgetExceededError, Client, PolicyError, Session
from nbclaude._session.budget import (
    IMAGE_TOKENS,
    PDF_PAGE_TOKENS,
    estimate,
    estimate_batch,
    input_tokens_bound,
)
from nbclaude.testing import FakeAnthropic, Text, ToolUse

HAIKU = "claude-haiku-4-5"  # $1 in / $5 out per million tokens


@pytest.fixture(autouse=True)
def _no_class_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NBCLAUDE_BUDGET", raising=False)
    monkeypatch.delenv("NBCLAUDE_POLICY", raising=False)


def make(*script: Any, **kwargs: Any) -> tuple[Session, FakeAnthropic]:
    fake = FakeAnthropic(list(script), api_key=KEY)
    kwargs.setdefault("model", HAIKU)
    return Session(client=Client(api_key=KEY, transport=fake, max_retries=0), **kwargs), fake


def posts(fake: FakeAnthropic) -> list[dict[str, Any]]:
    return [r.json for r in fake.requests if r.method == "POST" and r.path == "/v1/messages"]


def spend(tokens_in: int, tokens_out: int, text: str = "ok") -> Text:
    return Text(text, usage={"input_tokens": tokens_in, "output_tokens": tokens_out})


def test_a_request_that_could_pass_the_budget_is_refused_before_it_is_sent() -> None:
    s, fake = make(budget=0.001)  # max_tokens 1024 alone could cost $0.00512
    with pytest.raises(BudgetExceededError) as info:
        s.send("Hello")
    e = info.value
    assert fake.requests == [] and s.messages == []
    assert (e.spent, e.left, e.budget) == (0.0, 0.001, 0.001)
    assert e.needed is not None and e.needed > 0.00512
    text = str(e)
    assert "only $0.001 is left of the $0.001 budget set by Session(budget=...)" in text
    assert "($0.00 spent)" in text and "Nothing was sent" in text
    assert "could cost up to $0.0052" in text and "1,024 output tokens" in text
    assert "lower max_tokens" in e.hint


def test_spending_adds_up_and_the_request_that_no_longer_fits_is_refused() -> None:
    # each turn: 3,000 in + 1,000 out = $0.008; each worst case: ~$0.005 (max_tokens 1000)
    s, fake = make(spend(3000, 1000), spend(3000, 1000), budget=0.02, max_tokens=1000)
    s.send("one")
    assert s.budget_spent == pytest.approx(0.008) and s.budget_left == pytest.approx(0.012)
    s.send("two")
    assert s.budget_left == pytest.approx(0.004)
    with pytest.raises(BudgetExceededError) as info:
        s.send("three")
    assert len(posts(fake)) == 2
    assert info.value.spent == pytest.approx(0.016) and info.value.left == pytest.approx(0.004)
    assert "$0.02 spent" in str(info.value) and "$0.004 is left" in str(info.value)
    assert len(s.messages) == 4  # the refused turn left no trace
    s.send("three", max_tokens=100)  # a shorter reply fits


def test_reset_clears_the_totals_but_not_what_was_spent() -> None:
    s, _ = make(spend(3000, 1000), budget=0.01, max_tokens=1000)
    s.send("one")
    s.reset()
    assert s.cost == 0.0 and s.usage["input_tokens"] == 0
    assert s.budget_spent == pytest.approx(0.008)
    with pytest.raises(BudgetExceededError):
        s.send("again")


def test_loading_a_saved_conversation_does_not_give_money_back(tmp_path: Any) -> None:
    s, _ = make(spend(3000, 1000), budget=0.01, max_tokens=1000)
    fresh, _ = make()
    fresh.save(tmp_path / "empty.json")
    s.send("one")
    s.replace(Session.load(tmp_path / "empty.json"))
    assert s.cost == 0.0 and s.budget_spent == pytest.approx(0.008)


def test_a_model_without_a_price_is_refused_when_there_is_a_budget() -> None:
    s, fake = make(budget=10.0, model="claude-mythos-5")
    with pytest.raises(BudgetExceededError, match="claude-mythos-5 has no known price") as info:
        s.send("Hello")
    assert fake.requests == [] and info.value.needed is None
    with pytest.raises(BudgetExceededError, match="no known price"):
        make(budget=10.0)[0].send("Hello", model="claude-mythos-5")  # per turn too
    unbudgeted, fake2 = make(model="claude-mythos-5")
    unbudgeted.send("Hello")
    assert len(posts(fake2)) == 1


def test_the_environment_and_the_policy_cap_the_budget(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    monkeypatch.setenv("NBCLAUDE_BUDGET", "0.5")
    assert make()[0].budget == 0.5
    assert make(budget=5.0)[0].budget == 0.5  # the hub's cap wins over a larger own budget
    assert make(budget=0.25)[0].budget == 0.25  # a smaller own budget is kept
    s = make()[0]
    s.budget = None  # your own goes; the hub's stays
    assert s.budget == 0.5
    policy = tmp_path / "policy.toml"
    policy.write_text("budget = 0.1\n")
    monkeypatch.setenv("NBCLAUDE_POLICY", str(policy))
    s = make(budget=1.0)[0]
    assert s.budget == 0.1
    with pytest.raises(BudgetExceededError, match=r"course policy \(") as info:
        s.send("x", max_tokens=64_000)
    assert str(policy) in str(info.value)


@pytest.mark.parametrize("value", ["two dollars", "-1", "inf", "nan"])
def test_a_bad_budget_variable_is_one_clear_error(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("NBCLAUDE_BUDGET", value)
    with pytest.raises(PolicyError, match="NBCLAUDE_BUDGET") as info:
        Session()
    assert info.value.rule == "budget"


def test_a_bad_budget_argument_is_refused() -> None:
    with pytest.raises(ValueError, match="budget must be"):
        Session(budget=-1)
    with pytest.raises(ValueError, match="budget must be"):
        Session(budget="2")  # type: ignore[arg-type]


def test_setting_the_budget_tells_the_observers() -> None:
    s = make()[0]
    seen: list[str] = []
    s.subscribe(lambda e: seen.append(e["type"]))
    s.budget = 2.0
    assert seen == ["change"] and (s.budget, s.budget_left) == (2.0, 2.0)


def test_counting_tokens_is_free_so_the_budget_does_not_apply() -> None:
    s, fake = make(budget=0.0)
    assert s.count_tokens("How many tokens is this?") > 0
    assert [r.path for r in fake.requests] == ["/v1/messages/count_tokens"]


def test_every_request_of_a_tool_loop_is_checked() -> None:
    def add(a: int, b: int) -> int:
        """Add two numbers."""
        return a + b

    # the first request fits; its reply spends so much that the second one does not
    call = ToolUse("add", {"a": 1, "b": 2}, usage={"input_tokens": 9000, "output_tokens": 500})
    s, fake = make(call, Text("3"), budget=0.012, max_tokens=500)
    with pytest.raises(BudgetExceededError):
        s.send("1+2?", tools=[add], auto_approve=True)
    assert len(posts(fake)) == 1
    assert s.budget_spent == pytest.approx(0.0115)
    # the call was answered, so the conversation can go on later
    assert s.messages[-1]["content"][0]["type"] == "tool_result"


def test_batches_count_at_the_batch_price_and_hold_their_worst_case() -> None:
    s, fake = make(spend(1000, 100, "A"), spend(1000, 100, "B"), budget=0.008, max_tokens=1000)
    prompts = ["one", "two"]
    # two requests at up to ~$0.00504 each: $0.0101 at the standard price, ~$0.00505 batched
    job = s.batch(prompts, wait=False)
    assert s.budget_left == pytest.approx(0.008 - 0.00505, abs=1e-4)
    with pytest.raises(BudgetExceededError, match="batch requests, at the batch price"):
        s.batch(prompts, wait=False)  # the first one's worst case is still held
    batches = [r for r in fake.requests if r.path == "/v1/messages/batches"]
    assert len(batches) == 1
    results = job.wait(poll_interval=0)
    assert results.texts == ["A", "B"]
    # counted at the batch price (2 x (1000 x $1 + 100 x $5) / 1M / 2); nothing held any more
    assert s.budget_spent == pytest.approx(0.0015) and s.budget_left == pytest.approx(0.0065)


def test_a_batch_that_does_not_fit_is_refused_before_it_is_sent() -> None:
    s, fake = make(budget=0.004, max_tokens=1000)
    with pytest.raises(BudgetExceededError) as info:
        s.batch(["one", "two"], wait=False)
    assert fake.requests == [] and "2 batch requests" in str(info.value)


# -- the worst case -------------------------------------------------------------------------------


def test_text_is_bounded_by_its_bytes() -> None:
    text = "Ünïcödé " * 100  # multi-byte characters count each byte
    body = {"model": HAIKU, "max_tokens": 10, "messages": [{"role": "user", "content": text}]}
    assert input_tokens_bound(body) >= len(text.encode())
    tools = {**body, "tools": [{"name": "f", "input_schema": {"type": "object"}}]}
    assert input_tokens_bound(tools) >= input_tokens_bound(body) + 1000


def test_images_and_pdf_pages_have_a_fixed_worst_case() -> None:
    image = {"type": "image", "source": {"type": "base64", "media_type": "image/png",
                                         "data": "A" * 2_000_000}}  # fmt: skip
    pdf = b"%PDF-1.4\n" + b"1 0 obj << /Type /Page >> endobj\n" * 3 + b"2 0 obj << /Type /Pages >>"
    document = {"type": "document", "source": {"type": "base64", "media_type": "application/pdf",
                                               "data": base64.b64encode(pdf).decode()}}  # fmt: skip

    def bound(*blocks: Any) -> int:
        return input_tokens_bound({"messages": [{"role": "user", "content": list(blocks)}]})

    assert IMAGE_TOKENS <= bound(image) < IMAGE_TOKENS + 100  # not the 2 MB of base64
    assert 3 * PDF_PAGE_TOKENS <= bound(document) < 3 * PDF_PAGE_TOKENS + 200


def test_cache_writes_are_priced_as_writes() -> None:
    plain = {"model": HAIKU, "max_tokens": 0, "messages": [{"role": "user", "content": "x" * 1000}]}
    cached = {
        **plain,
        "system": [{"type": "text", "text": "s", "cache_control": {"type": "ephemeral"}}],
    }
    hour = {**plain, "system": [{"type": "text", "text": "s",
                                 "cache_control": {"type": "ephemeral", "ttl": "1h"}}]}  # fmt: skip
    base = estimate(plain).cost
    assert base is not None
    assert estimate(cached).cost == pytest.approx(base * 1.25, rel=0.05)
    assert estimate(hour).cost == pytest.approx(base * 2.0, rel=0.05)


def test_the_worst_case_is_above_what_the_api_charges() -> None:
    # The fake counts tokens as the API roughly does (about 4 bytes a token); the bound must
    # never be below what a reply can cost.
    s, fake = make(Text("x" * 400))
    reply = s.send("Tell me about ants " * 50, max_tokens=300)
    body = posts(fake)[0]
    worst = estimate(body).cost
    assert worst is not None and reply.cost is not None and worst >= reply.cost
    assert estimate_batch([body, body], discount=0.5).cost == pytest.approx(worst, rel=1e-6)
