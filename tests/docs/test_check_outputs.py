"""``check_outputs`` (the notebook tests' judge) and the turns a notebook now keeps.

Every ``%%claude`` output keeps its turn in ``metadata["nbclaude"]`` (issue 12), and the turn of
``%claude fix`` quotes the traceback it sends. That is data, not something shown: it is not a
traceback in the output. The key, though, must not be anywhere, metadata included.
"""

from __future__ import annotations

from nbformat.v4 import new_code_cell, new_notebook, new_output

from nbclaude.testing.notebook import check_outputs

TRACE = "Traceback (most recent call last):\n  File ...\nValueError: bad"


def _nb(output: object) -> object:
    return new_notebook(cells=[new_code_cell("%claude fix", outputs=[output])])


def test_a_traceback_quoted_in_an_outputs_metadata_is_not_one_shown() -> None:
    turn = {"nbclaude": {"messages": [{"role": "user", "content": f"Explain:\n{TRACE}"}]}}
    out = new_output("display_data", data={"text/plain": "An explanation."}, metadata=turn)
    assert check_outputs(_nb(out)) == []


def test_a_traceback_shown_is_still_found() -> None:
    out = new_output("display_data", data={"text/plain": TRACE})
    assert check_outputs(_nb(out)) == ["cell 0: a traceback in the output"]


def test_the_key_is_still_found_in_metadata() -> None:
    out = new_output("display_data", data={"text/plain": "ok"},
                     metadata={"nbclaude": {"messages": ["sk-ant-secret-123456"]}})  # fmt: skip
    assert check_outputs(_nb(out), secrets=("sk-ant-secret-123456",)) == [
        "cell 0: the API key appears in an output"
    ]


def test_a_widgets_saved_copy_may_show_a_quoted_traceback() -> None:
    """The ChatWidget's saved copy shows its whole conversation, a %claude fix turn and the
    traceback it quoted included: that is the chat, not an error of the cell. A cell's own
    output showing one still counts, and the key still counts everywhere."""
    turns = {"nbclaude": {"version": 1, "kind": "widget", "messages": []}}
    copy = new_output("display_data", data={"text/html": f"<pre>{TRACE}</pre>"}, metadata=turns)
    assert check_outputs(_nb(copy)) == []
    cell_turn = {"nbclaude": {"version": 1, "kind": "cell", "messages": []}}
    shown = new_output("display_data", data={"text/plain": TRACE}, metadata=cell_turn)
    assert check_outputs(_nb(shown)) == ["cell 0: a traceback in the output"]
    leaked = new_output("display_data", data={"text/html": "sk-ant-secret-123456"}, metadata=turns)
    assert check_outputs(_nb(leaked), secrets=("sk-ant-secret-123456",)) == [
        "cell 0: the API key appears in an output"
    ]
