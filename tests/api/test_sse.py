"""The SSE decoder: the spec's parsing rules, any chunking, and agreement with the SDK."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sdk_oracle import sse_fixtures

from nbclaude._api.sse import ServerSentEvent, SSEDecoder, iter_sse


def decode(*chunks: bytes) -> list[ServerSentEvent]:
    return list(iter_sse(chunks))


def test_event_and_data() -> None:
    assert decode(b'event: ping\ndata: {"type": "ping"}\n\n') == [
        ServerSentEvent("ping", '{"type": "ping"}')
    ]


def test_default_event_name_is_message() -> None:
    assert decode(b"data: hi\n\n")[0].event == "message"


@pytest.mark.parametrize("eol", [b"\n", b"\r", b"\r\n"])
def test_every_line_ending(eol: bytes) -> None:
    body = eol.join([b"event: a", b"data: 1", b"", b"event: b", b"data: 2", b"", b""])
    assert [(e.event, e.data) for e in decode(body)] == [("a", "1"), ("b", "2")]


def test_crlf_split_across_chunks_is_one_line_end() -> None:
    # "\r" ends one chunk and "\n" starts the next: one line end, not an empty line.
    events = decode(b"event: a\r", b"\ndata: 1\r", b"\n\r", b"\n")
    assert [(e.event, e.data) for e in events] == [("a", "1")]


def test_multiline_data_joined_with_newline() -> None:
    assert decode(b"data: one\ndata: two\ndata:\n\n")[0].data == "one\ntwo\n"


def test_comments_and_unknown_fields_ignored() -> None:
    events = decode(b": keep-alive\nfoo: bar\nevent: x\n: another\ndata: 1\n\n")
    assert [(e.event, e.data) for e in events] == [("x", "1")]


def test_field_without_colon_and_without_space() -> None:
    events = decode(b"event:tight\ndata:no-space\ndata\n\n")
    assert events == [ServerSentEvent("tight", "no-space\n")]


def test_only_one_leading_space_is_stripped() -> None:
    assert decode(b"data:  two spaces\n\n")[0].data == " two spaces"


def test_event_without_data_is_not_dispatched_and_name_resets() -> None:
    events = decode(b"event: lonely\n\ndata: 1\n\n")
    assert events == [ServerSentEvent("message", "1")]


def test_id_persists_and_retry_parsed() -> None:
    events = decode(b"id: 7\nretry: 1500\ndata: a\n\ndata: b\n\nretry: x\nid: bad\0id\ndata: c\n\n")
    assert [(e.id, e.retry) for e in events] == [("7", 1500), ("7", 1500), ("7", 1500)]


def test_bom_is_skipped_even_when_split() -> None:
    events = decode(b"\xef", b"\xbb", b"\xbfdata: x\n\n")
    assert events == [ServerSentEvent("message", "x")]


def test_unfinished_event_at_end_is_dropped() -> None:
    assert decode(b"data: complete\n\ndata: cut off\n") == [ServerSentEvent("message", "complete")]


def test_multibyte_utf8_split_inside_a_character() -> None:
    body = 'data: {"text": "héllo 🌍"}\n\n'.encode()
    cut = body.index("🌍".encode()) + 2
    assert decode(body[:cut], body[cut:])[0].data == '{"text": "héllo 🌍"}'


def test_flush_resets_the_decoder() -> None:
    d = SSEDecoder()
    d.feed(b"data: half")
    assert d.flush() == []
    assert d.feed(b"data: new\n\n") == [ServerSentEvent("message", "new")]


FIXTURE_BODIES = [body.encode() for _, body in sse_fixtures()]


def test_fixtures_exist() -> None:
    assert len(FIXTURE_BODIES) >= 20


@pytest.mark.parametrize(("name", "body"), list(sse_fixtures()))
def test_fixture_events_match_the_sdk_decoder(name: str, body: str) -> None:
    from anthropic._streaming import SSEDecoder as SDKDecoder

    ours = [(e.event, e.data) for e in decode(body.encode())]
    theirs = [(e.event, e.data) for e in SDKDecoder().iter_bytes(iter([body.encode()])) if e.event]
    assert ours == theirs
    assert ours, name


def _split(body: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({min(c, len(body)) for c in cuts})
    pieces, last = [], 0
    for p in points:
        pieces.append(body[last:p])
        last = p
    pieces.append(body[last:])
    return pieces


@settings(max_examples=300, deadline=None)
@given(
    index=st.integers(min_value=0, max_value=len(FIXTURE_BODIES) - 1),
    cuts=st.lists(st.integers(min_value=0, max_value=20_000), max_size=40),
    eol=st.sampled_from([b"\n", b"\r\n", b"\r"]),
)
def test_any_chunking_decodes_to_the_same_events(index: int, cuts: list[int], eol: bytes) -> None:
    body = FIXTURE_BODIES[index].replace(b"\n", eol)
    whole = decode(body)
    assert decode(*_split(body, cuts)) == whole
    # one byte at a time too (the hardest split)
    if index % 7 == 0:
        assert decode(*[body[i : i + 1] for i in range(len(body))]) == whole


@settings(max_examples=200, deadline=None)
@given(
    events=st.lists(
        st.tuples(
            st.text(
                alphabet=st.characters(blacklist_characters="\r\n:", codec="utf-8"), max_size=8
            ),
            st.lists(
                st.text(
                    alphabet=st.characters(blacklist_characters="\r\n", codec="utf-8"), max_size=30
                ),
                min_size=1,
                max_size=3,
            ),
        ),
        max_size=8,
    ),
    cuts=st.lists(st.integers(min_value=0, max_value=2_000), max_size=20),
)
def test_generated_streams_round_trip(events: list[tuple[str, list[str]]], cuts: list[int]) -> None:
    body = b""
    for name, lines in events:
        name = name.strip() or "message"
        body += f"event: {name}\n".encode()
        for line in lines:
            body += f"data: {line}\n".encode()
        body += b"\n"
    expected = [(name.strip() or "message", "\n".join(lines)) for name, lines in events]
    got = [(e.event, e.data) for e in decode(*_split(body, cuts))]
    assert got == expected
