"""The ``%claude`` line commands (status, reset, undo, history, usage, ...; ``models`` is in
:mod:`.models_table`, ``fix`` in :mod:`.cell_errors`, ``record`` and ``replay`` in
:mod:`.cassettes`).

Each command takes :class:`Where` (the shell it runs in, and how to open the chat widget) and
its words; the magic parses the line and turns expected errors into one clean line.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from IPython.core.error import UsageError

from nbclaude._session.autosave import Autosave, kept_copies
from nbclaude._session.backend import (
    REPLAY_ENV,
    default_client,
    describe,
    is_offline,
    replaying,
)
from nbclaude._session.money import usd, usd_markdown
from nbclaude._session.session import Session, get_session

from . import cassettes
from .cell_errors import fix
from .models_table import models
from .show import escape as _esc
from .show import markdown as _md

__all__ = ["COMMANDS", "Where", "run"]


@dataclass(frozen=True)
class Where:
    """Where a command runs."""

    #: The IPython shell.
    shell: Any
    #: ``open_widget(session)`` -> a ChatWidget (given by the package, which imports both
    #: the magics and the widget; the magics never import the widget themselves).
    open_widget: Callable[[Session], Any] | None = None
    #: The shared session's :class:`~nbclaude._session.autosave.Autosave`, if the magics
    #: keep one.
    autosave: Autosave | None = None
    #: The errors of the cells that failed, by cell number, as the user saw them
    #: (:class:`~nbclaude._ipython.cell_errors.CellErrors`), for ``%claude fix``.
    errors: Mapping[int, str] | None = None


def _tokens(usage: dict[str, int]) -> str:
    cached = usage.get("cache_read_input_tokens", 0)
    writes = usage.get("cache_creation_input_tokens", 0)
    text = f"{usage.get('input_tokens', 0):,} in / {usage.get('output_tokens', 0):,} out"
    if cached or writes:
        text += f" (cache: {writes:,} written, {cached:,} read)"
    return text


def _cost(value: float | None) -> str:
    return usd_markdown(value, unknown="unknown (no price for this model)")


def status(where: Where, args: list[str]) -> None:
    """Model, turns, tokens, cost and backend of the shared session, and where the key came
    from (never the key)."""
    s = get_session()
    turns = sum(1 for msg in s.messages if msg.get("role") == "user")
    client = s.client
    system = s.system if isinstance(s.system, str) else ("(blocks)" if s.system else "none")
    if len(system) > 80:
        system = system[:77] + "..."
    lines = [
        f"**model** {_esc(s.model)} · **max_tokens** {s.max_tokens:,}",
        f"**turns** {turns} · **tokens** {_tokens(s.usage)} · **cost** {_cost(s.cost)}",
        f"**backend** {_esc(describe(client))} · **key** {_key_status(client)}",
        f"**system** {_esc(system)}",
        f"**autosave** {_autosave_status(where.autosave)}",
    ]
    if budget := _budget_line(s):
        lines.append(budget)
    _md("  \n".join(lines))


def _key_status(client: Any) -> str:
    """Whether a key is set and where it came from, as Markdown."""
    if replaying(client) is not None:
        return "not needed (replaying a cassette)"
    if is_offline(client):
        return "offline, no key needed"
    if not client.has_credentials:
        return "MISSING (set ANTHROPIC_API_KEY or %claude offline)"
    source = client.credentials.source
    return f"set ({_esc(source)})" if source else "set"


def _budget_line(s: Session, *, markdown: bool = True) -> str:
    """The budget in one line (``""`` when the session has none), for ``%claude`` and
    ``%claude usage``: what is spent, what is left, and who set it."""
    budget, left = s.budget, s.budget_left
    if budget is None or left is None:
        return ""
    text = f"{usd(s.budget_spent)} spent of {usd(budget)} · {usd(left)} left"
    source = s.policy.path if s.policy is not None and s.policy.budget == budget else None
    if source is not None:
        text += f" (course policy {source})"
    return f"**budget** {_esc(text)}" if markdown else f"budget {text}"


def policy(where: Where, args: list[str]) -> None:
    """The course policy this session obeys (``$NBCLAUDE_POLICY``), and the budget."""
    s = get_session()
    p = s.policy
    budget = _budget_line(s)
    if p is None:
        import os

        late = os.environ.get("NBCLAUDE_POLICY", "").strip()
        lines = [
            f"No course policy: NBCLAUDE_POLICY is {_esc(late)}, but this session was made "
            "before it was set (a session reads it when it is made): restart the kernel, as "
            "a hub sets it before the kernel starts."
            if late
            else "No course policy: NBCLAUDE_POLICY is not set."
        ]
        if budget:
            lines.append(budget)
        _md("  \n".join(lines))
        return
    rows = [f"**Course policy** {_esc(p.path)}", "", "| rule | value |", "|---|---|"]
    for rule, value in p.rows():
        rows.append(f"| `{rule}` | {_esc(' '.join(value.split()))} |")
    if budget:
        rows += ["", budget]
    _md("\n".join(rows))


def _shown(path: Path) -> str:
    """``path`` relative to the current folder when it is inside it."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _autosave_status(keeper: Autosave | None) -> str:
    if keeper is None:
        return "off"
    where = keeper.where
    if where.path is None:
        return _esc(where.why)
    text = f"`{_shown(where.path)}`"
    if keeper.last_error:
        text += f" — **failing**: {_esc(keeper.last_error)}"
    elif keeper.saved_at is not None:
        text += f" (saved {time.strftime('%H:%M:%S', time.localtime(keeper.saved_at))})"
    elif where.path.is_file() and not get_session().messages:
        text += " — holds a conversation from before: `%claude resume` brings it back"
    return text


def reset(where: Where, args: list[str]) -> None:
    """Forget the conversation."""
    get_session().reset()
    print("Conversation cleared.")


def undo(where: Where, args: list[str]) -> None:
    """Remove the last exchange (right after a reset or a load: bring back what it took)."""
    s = get_session()
    before = len(s.messages)
    s.undo()
    removed = before - len(s.messages)
    if removed < 0:  # right after a reset or a load: what they took is back
        print(f"Brought back {-removed} message(s) (what the reset or load replaced).")
        return
    print(f"Removed {removed} message(s)." if removed else "Nothing to undo.")


def history(where: Where, args: list[str]) -> None:
    """Show the conversation, rendered safely."""
    from nbclaude._markdown import safe_markdown

    s = get_session()
    if not s.messages:
        print("The conversation is empty.")
        return
    _md(safe_markdown(s.to_markdown()))


def usage(where: Where, args: list[str]) -> None:
    """Token totals and cost."""
    s = get_session()
    cost = usd(s.cost, unknown="unknown (no price for this model)")
    print(f"{_tokens(s.usage)} tokens · cost {cost}")
    if budget := _budget_line(s, markdown=False):
        print(budget)


def tokens(where: Where, args: list[str]) -> None:
    """Count the input tokens of the conversation (plus TEXT, if given) — free, nothing sent
    to the model."""
    from nbclaude._api.models import model_spec

    s = get_session()
    n = s.count_tokens(" ".join(args)) if args else s.count_tokens()
    spec = model_spec(s.model)
    price = ""
    if spec is not None and spec.input_price is not None:
        price = f" (≈ {usd(n * spec.input_price / 1e6)} as input to {s.model})"
    what = "The conversation plus your text" if args else "The conversation"
    print(f"{what}: {n:,} input tokens{price}.")


def model(where: Where, args: list[str]) -> None:
    """Switch the session's model (no name: show it)."""
    s = get_session()
    if not args:
        print(s.model)
        return
    s.model = args[0]
    print(f"Model: {s.model}")


def system(where: Where, args: list[str]) -> None:
    """Set the system prompt (``""`` clears it; no text shows it)."""
    s = get_session()
    if not args:
        print(s.system if s.system else "(no system prompt)")
        return
    s.system = " ".join(args) or None
    print("System prompt set." if s.system else "System prompt cleared.")


def save(where: Where, args: list[str]) -> None:
    """Save the conversation to a JSON file, atomically (the key is never saved)."""
    if len(args) != 1:
        raise UsageError("%claude save PATH")
    get_session().save(args[0])
    print(f"Saved to {args[0]}.")


def _turns(messages: list[Any]) -> int:
    return sum(1 for m in messages if m.get("role") == "user")


def _take_over(loaded: Session, source: str, *, verb: str, note: str = "") -> None:
    """Put ``loaded`` in place of the shared conversation and say so (how to undo it)."""
    s = get_session()
    had = _turns(s.messages)
    s.replace(loaded)
    said = f"{verb} {_turns(loaded.messages)} turn(s) from {source}."
    if had:
        said += f" The {had} turn(s) that were here are replaced: %claude undo brings them back."
    print(" ".join(p for p in (said, note) if p))


def load(where: Where, args: list[str]) -> None:
    """Load a conversation saved with ``%claude save``; the live one is replaced only once
    the file was read and checked whole."""
    if len(args) != 1:
        raise UsageError("%claude load PATH")
    loaded = Session.load(args[0])  # raises, one line, before anything is touched
    _take_over(loaded, args[0], verb="Loaded")


def resume(where: Where, args: list[str]) -> None:
    """Bring back this notebook's autosave (after a kernel restart), or the conversation in
    a saved session (``.json``) or a saved notebook (``.ipynb``)."""
    from nbclaude._session.resume import open_saved, resume_source

    if len(args) > 1:
        raise UsageError("%claude resume [PATH]   (PATH: a saved .json session or an .ipynb)")
    path = resume_source(where.autosave, args[0] if args else None)
    loaded, note = open_saved(path)  # raises, one line, before anything is touched
    current = get_session().messages
    if current and loaded.messages == current:
        print(f"Nothing to resume: the conversation is already the one in {_shown(path)}.")
        return
    others = [] if args else [_shown(p) for p in kept_copies(path)][-3:]
    if others:
        note += f" Earlier conversations kept beside it: {', '.join(others)}."
    _take_over(loaded, _shown(path), verb="Resumed", note=note.strip())


def hint_resume(keeper: Autosave) -> None:
    """After ``%load_ext``: if this notebook's autosave holds a conversation (the kernel was
    restarted), say how to bring it back (one line; nothing is read)."""
    path = keeper.where.path
    if path is None or get_session().messages or not path.is_file():
        return
    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(path.stat().st_mtime))
    print(f"nbclaude: this notebook's conversation (saved {when}) is in {_shown(path)}: "
          "%claude resume brings it back.")  # fmt: skip


def widget(where: Where, args: list[str]) -> Any:
    """Open the chat widget on the shared session."""
    if where.open_widget is None:
        raise UsageError("%claude widget: load nbclaude with %load_ext nbclaude first")
    return where.open_widget(get_session())


def offline(where: Where, args: list[str]) -> None:
    """Use the offline fake API: no key, no network, deterministic replies (sessions made
    afterwards too: it sets ``NBCLAUDE_OFFLINE=1``). A replay goes on: it is offline already
    (no key, nothing sent, the fake for what the cassette lacks), and a lesson's setup cell
    that goes offline without a key must not end the class's replay (``%claude replay off``
    does)."""
    import os

    os.environ["NBCLAUDE_OFFLINE"] = "1"
    s = get_session()
    if not (os.environ.get(REPLAY_ENV) and replaying(s.client) is not None):
        s.client = default_client()  # the fake (a replay wins), still recorded if it was
    if replaying(s.client) is not None:
        print(f"Offline: still {describe(s.client)}; the rest from nbclaude's fake API.")
    else:
        print("Offline: replies now come from nbclaude's fake API (no model is called).")


def online(where: Where, args: list[str]) -> None:
    """Use the real API again (needs ANTHROPIC_API_KEY)."""
    import os

    os.environ.pop("NBCLAUDE_OFFLINE", None)
    os.environ.pop(REPLAY_ENV, None)
    s = get_session()
    s.client = default_client()
    note = "" if s.client.has_credentials else " No API key is set yet: see the README."
    print(f"Online: requests go to {s.client.base_url}.{note}")


COMMANDS: dict[str, Callable[[Where, list[str]], Any]] = {
    "reset": reset,
    "undo": undo,
    "history": history,
    "usage": usage,
    "models": models,
    "model": model,
    "tokens": tokens,
    "system": system,
    "save": save,
    "load": load,
    "resume": resume,
    "widget": widget,
    "policy": policy,
    "offline": offline,
    "online": online,
    "fix": fix,
    "record": cassettes.record,
    "replay": cassettes.replay,
}


def run(where: Where, words: list[str]) -> Any:
    """Run ``%claude WORDS``."""
    if not words:
        return status(where, [])
    name, args = words[0], words[1:]
    command = COMMANDS.get(name)
    if command is None:
        known = ", ".join(sorted(COMMANDS))
        raise UsageError(f"%claude {name}: unknown command. Known: {known} (no argument: status)")
    return command(where, args)
