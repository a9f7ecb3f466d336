"""``%%claude`` and ``%claude``: the IPython magics.

``%load_ext nbclaude`` registers :class:`ClaudeMagics`. The cell magic sends the cell as a
user turn of the shared session (``nbclaude.get_session()``) and streams the reply into the
cell; the line magic runs session commands (``%claude`` alone shows the status).

Expected failures (no key, rate limits, bad requests, bad images, ...) end the cell with one
clean line saying what to do next, not a traceback, and the session's history stays as it was.
"""

from __future__ import annotations

import json
import os
import re
import shlex
from collections.abc import Callable
from typing import Any, TypeVar, cast

from IPython.core import magic as _magic
from IPython.core import magic_arguments as _magic_arguments
from IPython.core.error import UsageError
from IPython.core.magic import Magics
from traitlets import Bool, Enum, Float, Int, Unicode, observe

from nbclaude._exceptions import NbClaudeError
from nbclaude._session.events import TOOL_CALL, TOOL_RESULT, Event
from nbclaude._session.reply import Reply
from nbclaude._session.session import Session, get_session

__all__ = ["ClaudeMagics", "load_ipython_extension", "unload_ipython_extension"]

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

# IPython's decorators are untyped (or typed so that mypy rejects methods): typed shims here,
# at the boundary, rather than loosening the type checks of this whole module.
_F = TypeVar("_F", bound=Callable[..., Any])
_C = TypeVar("_C", bound=type)


def magics_class(cls: _C) -> _C:
    return _magic.magics_class(cls)


def cell_magic(name: str) -> Callable[[_F], _F]:
    return cast(Callable[[_F], _F], _magic.cell_magic(name))


def line_magic(name: str) -> Callable[[_F], _F]:
    return cast(Callable[[_F], _F], _magic.line_magic(name))


def no_var_expand(func: _F) -> _F:
    return _magic.no_var_expand(func)


def magic_arguments() -> Callable[[_F], _F]:
    return cast(Callable[[_F], _F], _magic_arguments.magic_arguments())  # type: ignore[no-untyped-call]


def argument(*args: Any, **kwargs: Any) -> Callable[[_F], _F]:
    return cast(Callable[[_F], _F], _magic_arguments.argument(*args, **kwargs))  # type: ignore[no-untyped-call]


# -- one clean line instead of a traceback ------------------------------------------------------

_CLEAN: dict[type[BaseException], type[Exception]] = {}


class CleanError(Exception):
    """Raised by the magics for expected failures: IPython shows one line, no traceback.

    It still fails the cell (so "Run all" stops there). The original error is ``__cause__``.
    """

    def _render_traceback_(self) -> list[str]:
        cause = self.__cause__
        name = type(cause).__name__ if cause is not None else type(self).__name__
        return [f"\x1b[0;31m{name}\x1b[0m: {self}"]


class Interrupted(KeyboardInterrupt):
    """A reply was interrupted: the partial reply is kept and marked; the cell stops."""

    def _render_traceback_(self) -> list[str]:
        return [f"\x1b[0;31mInterrupted\x1b[0m: {self}"]


def clean(exc: BaseException) -> Exception:
    """Wrap an expected error so IPython shows it as one line (named after the original)."""
    cls = _CLEAN.get(type(exc))
    if cls is None:
        cls = type(type(exc).__name__, (CleanError,), {"__module__": "nbclaude"})
        _CLEAN[type(exc)] = cls
    err = cls(_one_line(exc))
    err.__cause__ = exc
    return err


def split_line(line: str) -> list[str]:
    """Split a magic's option line like a shell does: quotes group words and are removed.

    (IPython's own ``parse_argstring`` keeps the quotes.) On Windows backslashes are kept,
    so ``-i C:\\pics\\cat.png`` works.

    Examples
    --------
    >>> split_line("-s 'Be terse.' --prefill 'The answer is ('")
    ['-s', 'Be terse.', '--prefill', 'The answer is (']
    """
    try:
        if os.name != "nt":
            return shlex.split(line)
        words = shlex.split(line, posix=False)
    except ValueError as exc:
        raise UsageError(f"%%claude options: {exc}") from None
    return [w[1:-1] if len(w) >= 2 and w[0] == w[-1] and w[0] in "\"'" else w for w in words]


def parse_options(magic: Any, line: str) -> Any:
    """Parse ``line`` with the argparse parser built by ``@magic_arguments``."""
    return magic.parser.parse_args(split_line(line))


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())


def secrets_of(session: Session | None = None) -> list[str]:
    """Strings that must never be sent or shown: the configured API key and auth token."""
    values = [os.environ.get("ANTHROPIC_API_KEY"), os.environ.get("ANTHROPIC_AUTH_TOKEN")]
    client = session._client if session is not None else None
    if client is not None:
        values += [client._api_key, client._auth_token]
    return [v for v in values if v and len(v) >= 8]


# -- the magics ---------------------------------------------------------------------------------


@magics_class
class ClaudeMagics(Magics):
    """``%%claude`` (ask Claude; the cell is the prompt) and ``%claude`` (session commands).

    Defaults are configurable traits: ``%config ClaudeMagics.model = "claude-haiku-4-5"`` or,
    in ``ipython_config.py``, ``c.ClaudeMagics.max_tokens = 2048``.
    """

    model = Unicode(
        "", help="Model for the shared session ('' keeps the session's, $NBCLAUDE_MODEL)."
    ).tag(config=True)
    system = Unicode("", help="System prompt for the shared session ('' for none).").tag(
        config=True
    )
    max_tokens = Int(0, help="max_tokens for the shared session (0 keeps the session's).").tag(
        config=True
    )
    stream = Bool(True, help="Stream replies into the cell (False renders once).").tag(config=True)
    format = Enum(
        ["markdown", "text", "code", "json"],
        default_value="markdown",
        help="How replies are shown.",
    ).tag(config=True)
    interpolate = Bool(True, help="Insert {name} variables into prompts.").tag(config=True)
    interval = Float(0.1, help="Least seconds between two updates of the live output.").tag(
        config=True
    )

    def __init__(self, shell: Any = None, **kwargs: Any) -> None:
        super().__init__(shell=shell, **kwargs)
        self._apply_config()

    @property
    def _ip(self) -> Any:
        """The shell (magics are always registered on one)."""
        if self.shell is None:
            raise RuntimeError("ClaudeMagics must be registered on an IPython shell")
        return self.shell

    @observe("model", "system", "max_tokens")
    def _settings_changed(self, change: Any) -> None:
        # (Not named _config_changed: that would replace traitlets' own method of that name,
        # and settings from ipython_config.py would never arrive.)
        self._apply_config()

    def _apply_config(self) -> None:
        session = get_session()
        if self.model:
            session.model = self.model
        if self.system:
            session.system = self.system
        if self.max_tokens:
            session.max_tokens = self.max_tokens

    # -- %%claude ------------------------------------------------------------------------------

    @magic_arguments()
    @argument("-m", "--model", help="Model for this turn (e.g. claude-haiku-4-5).")
    @argument("-s", "--system", help="System prompt for this turn.")
    @argument("--max-tokens", type=int, help="Most tokens in the reply.")
    @argument("-t", "--temperature", type=float, help="Sampling temperature (0 to 1).")
    @argument("--prefill", help="Start Claude's answer with this text.")
    @argument(
        "-i",
        "--image",
        action="append",
        default=[],
        metavar="SRC",
        help="An image to send first: a variable name, a file path or a URL (repeatable).",
    )
    @argument("-o", "--output", metavar="VAR", help="Store the Reply in this variable.")
    @argument("--new", action="store_true", help="Start a new conversation first.")
    @argument("--once", action="store_true", help="Do not record this turn in the history.")
    @argument("--no-stream", action="store_true", help="Show the reply once, when complete.")
    @argument(
        "--thinking", type=int, metavar="BUDGET", help="Let Claude think first (token budget)."
    )
    @argument(
        "-f",
        "--format",
        choices=["markdown", "text", "code", "json"],
        help="markdown (default), text, code (also fills the next cell) or json.",
    )
    @argument("--no-interpolate", action="store_true", help="Send {braces} as written.")
    @argument(
        "--tools",
        metavar="NAME[,NAME]",
        help="Python functions Claude may call (their schema comes from the signature).",
    )
    @argument("--auto-approve", action="store_true", help="Run tool calls without asking first.")
    @argument("--max-steps", type=int, default=10, help="Most rounds of tool calls (10).")
    @argument(
        "--schema",
        metavar="VAR",
        help="Ask for JSON matching VAR (a dataclass, TypedDict or JSON Schema dict).",
    )
    @no_var_expand
    @cell_magic("claude")
    def claude_cell(self, line: str, cell: str) -> None:
        """Ask Claude: the cell body is the prompt; the reply streams into the output.

        ``{name}`` inserts a notebook variable (text, or an image at that place), ``{In[3]}``
        / ``{Out[3]}`` a cell's input / output; ``{{`` and ``}}`` are literal braces. The turn
        joins the shared session: ``%claude history`` shows it, the chat widget sees it.

        Example::

            %%claude -m claude-haiku-4-5 -o answer
            What is in this chart? {fig}
        """
        args = parse_options(self.claude_cell, line)
        cell = cell.strip()
        session = get_session()
        if args.output is not None and not _IDENT.match(args.output):
            raise UsageError(f"-o needs a variable name, not {args.output!r}")
        fmt = args.format or self.format
        try:
            parts, warnings = self._prompt(cell, args, session)
            params = self._params(args, session)
            if args.new:
                session.reset()
            reply = self._run(session, parts, args, params, fmt, warnings)
        except KeyboardInterrupt:
            raise
        except NbClaudeError as exc:
            raise clean(exc) from None
        if args.output:
            self._ip.user_ns[args.output] = reply

    def _prompt(self, cell: str, args: Any, session: Session) -> tuple[list[Any], list[str]]:
        from .interpolate import interpolate

        parts: list[Any] = [self._image_option(src) for src in args.image]
        warnings: list[str] = []
        if args.no_interpolate or not self.interpolate:
            parts.append(cell)
        else:
            more, warnings = interpolate(cell, self._ip.user_ns, secrets=secrets_of(session))
            parts += more
        return parts, warnings

    def _image_option(self, src: str) -> Any:
        from nbclaude._content.images.image import image, is_image_like

        ns = self._ip.user_ns
        if _IDENT.match(src) and src in ns:
            value = ns[src]
            if is_image_like(value):
                return value
            if isinstance(value, (str, os.PathLike)):
                return image(value)
            kind = type(value).__name__
            raise UsageError(f"-i {src}: the variable holds a {kind}, not an image")
        return image(src)

    def _params(self, args: Any, session: Session) -> dict[str, Any]:
        params: dict[str, Any] = {}
        if args.model:
            params["model"] = args.model
        if args.system is not None:
            params["system"] = args.system
        if args.max_tokens is not None:
            params["max_tokens"] = args.max_tokens
        if args.temperature is not None:
            params["temperature"] = args.temperature
        if args.thinking is not None:
            params["thinking"] = args.thinking  # the session turns a budget into the right form
        return params

    def _run(
        self,
        session: Session,
        parts: list[Any],
        args: Any,
        params: dict[str, Any],
        fmt: str,
        warnings: list[str],
    ) -> Reply:
        from nbclaude._session.reply import tool_details

        from .display import LiveMarkdown

        live = LiveMarkdown(
            interval=self.interval,
            plain=fmt == "text",
            placeholder="*Claude is writing…*" if fmt != "text" else "…",
        )
        streaming = self.stream and not args.no_stream
        calls: dict[str, Any] = {}

        def on_tool(event: Event) -> None:  # show each call as it happens
            if event["type"] == TOOL_CALL:
                calls[event["id"]] = event
            elif event["type"] == TOOL_RESULT and streaming and fmt != "text":
                result = event["result"]
                call = calls.get(str(result.get("tool_use_id")), {})
                live.note(
                    tool_details({"name": call.get("name"), "input": call.get("input")}, result)
                )

        st = session.stream(
            *parts,
            prefill=args.prefill,
            record=not args.once,
            tools=self._tools_option(args.tools),
            auto_approve=args.auto_approve,
            max_steps=args.max_steps,
            schema=self._schema_option(args.schema),
            **params,
        )
        unsubscribe = session.subscribe(on_tool)
        try:
            with st:
                if args.prefill and streaming:
                    live.feed(args.prefill.rstrip())
                for text in st:
                    if streaming:
                        live.feed(text)
        except KeyboardInterrupt:
            if st.reply is None:
                live.clear()
                raise Interrupted(
                    "stopped before the reply started; nothing was recorded."
                ) from None
            self._show(live, st.reply, fmt, warnings)
            raise Interrupted(
                "the reply was stopped; what arrived is kept above (and in the history)."
            ) from None
        except NbClaudeError:
            live.clear()
            raise
        finally:
            unsubscribe()
        assert st.reply is not None
        self._show(live, st.reply, fmt, warnings)
        return st.reply

    def _tools_option(self, names: str | None) -> list[Any] | None:
        if not names:
            return None
        from nbclaude._tools import Tool

        tools: list[Any] = []
        for name in (n.strip() for n in names.split(",")):
            value = self._ip.user_ns.get(name)
            if not name or value is None or not (callable(value) or isinstance(value, dict)):
                raise UsageError(f"--tools {name}: no function of that name in the notebook")
            # A function is offered under the name the cell used (a lambda has no name).
            tools.append(value if isinstance(value, (dict, Tool)) else Tool(value, name=name))
        return tools

    def _schema_option(self, name: str | None) -> Any:
        if name is None:
            return None
        if name not in self._ip.user_ns:
            raise UsageError(f"--schema {name}: no variable of that name in the notebook")
        return self._ip.user_ns[name]

    def _show(self, live: Any, reply: Reply, fmt: str, warnings: list[str]) -> None:
        from nbclaude._session.reply import fenced

        from .display import final_bundle

        full = (reply.prefill or "") + reply.text
        notes = list(warnings)
        problem: Exception | None = None
        markdown = ""
        if reply.schema is not None and not reply.interrupted:
            try:
                markdown = fenced(
                    json.dumps(_jsonable(reply.data), indent=2, ensure_ascii=False), "json"
                )
            except NbClaudeError as exc:  # the reply does not fit the schema
                problem = exc
                markdown = reply._display_markdown()
        elif fmt == "code":
            code = first_code_block(full)
            if code is None:
                notes.append("The reply has no code block; all of it is shown as code.")
            code = full if code is None else code
            if code.strip() and not reply.interrupted:
                self._ip.set_next_input(code.rstrip("\n"), replace=False)
            markdown = fenced(code, "python")
        elif fmt == "json":
            data, ok = parse_json_reply(full)
            if ok:
                reply.data = data
                markdown = fenced(json.dumps(data, indent=2, ensure_ascii=False), "json")
            else:
                notes.append("The reply is not valid JSON; it is shown as text.")
                markdown = reply._display_markdown()
        else:
            markdown = reply._display_markdown()
        live.finish(
            final_bundle(
                markdown=markdown,
                plain=full,
                footer=reply.footer(),
                images=reply.images,
                warnings=notes,
                fmt=fmt,
            )
        )
        if problem is not None:
            raise problem

    # -- %claude -------------------------------------------------------------------------------

    @no_var_expand
    @line_magic("claude")
    def claude_line(self, line: str) -> Any:
        """Session commands. ``%claude`` alone shows the status.

        ::

            %claude                 status: model, turns, tokens, cost, backend
            %claude reset           forget the conversation
            %claude undo            remove the last exchange
            %claude history         show the conversation
            %claude usage           token totals and cost
            %claude models          the models your key can use, with prices and features
            %claude tokens [TEXT]   count the conversation's input tokens (free)
            %claude model NAME      switch model
            %claude system TEXT     set the system prompt ("" clears it; no TEXT shows it)
            %claude save PATH       save the conversation (never the key)
            %claude load PATH       load a saved conversation
            %claude widget          open the chat widget on this session
            %claude offline         use the offline fake API (no key, no network)
            %claude online          use the real API again
            %claude fix             ask Claude to explain the last error
        """
        from . import commands as _commands

        words = split_line(line)
        try:
            return _commands.run(self, words)
        except NbClaudeError as exc:
            raise clean(exc) from None


def _jsonable(value: Any) -> Any:
    from nbclaude._schema import to_jsonable

    return to_jsonable(value)


def first_code_block(text: str) -> str | None:
    """The content of the first fenced code block in ``text``, or ``None``.

    Examples
    --------
    >>> first_code_block("Here:\\n```python\\nprint(1)\\n```\\nDone")
    'print(1)\\n'
    """
    m = re.search(r"^ {0,3}(`{3,}|~{3,})[^\n]*\n(.*?)^ {0,3}\1[`~]*[ \t]*$", text, re.M | re.S)
    if m:
        return m.group(2)
    m = re.search(r"^ {0,3}(`{3,}|~{3,})[^\n]*\n(.*)\Z", text, re.M | re.S)  # unclosed fence
    return m.group(2) if m else None


def parse_json_reply(text: str) -> tuple[Any, bool]:
    """Parse the JSON in a reply: the whole text, a fenced block, or the first object/array.

    Examples
    --------
    >>> parse_json_reply('Sure: {"a": 1} hope it helps')
    ({'a': 1}, True)
    """
    candidates = [text.strip()]
    block = first_code_block(text)
    if block is not None:
        candidates.append(block.strip())
    for candidate in candidates:
        try:
            return json.loads(candidate), True
        except ValueError:
            pass
    decoder = json.JSONDecoder()
    for m in re.finditer(r"[\[{]", text):
        try:
            value, _ = decoder.raw_decode(text, m.start())
        except ValueError:
            continue
        return value, True
    return None, False


def load_ipython_extension(ipython: Any) -> None:
    """Register the magics (``%load_ext nbclaude``)."""
    ipython.register_magics(ClaudeMagics)


def unload_ipython_extension(ipython: Any) -> None:
    """Remove the magics (``%unload_ext nbclaude``)."""
    manager = ipython.magics_manager
    manager.magics["line"].pop("claude", None)
    manager.magics["cell"].pop("claude", None)
    manager.registry.pop("ClaudeMagics", None)
