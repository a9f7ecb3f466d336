"""``%%claude`` and ``%claude``: the IPython magics.

``%load_ext nbclaude`` registers :class:`ClaudeMagics`. The cell magic sends the cell as a
user turn of the shared session (``nbclaude.get_session()``) and streams the reply into the
cell; the line magic runs session commands (:mod:`nbclaude._ipython.commands`; ``%claude``
alone shows the status).

Expected failures (no key, rate limits, bad requests, bad images, ...) end the cell with one
clean line saying what to do next, not a traceback (:mod:`nbclaude._ipython.errors`), and the
session's history stays as it was.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics
from traitlets import Bool, Enum, Float, Int, Unicode, observe

from nbclaude._client.credentials import secrets
from nbclaude._exceptions import NbClaudeError
from nbclaude._session.autosave import Autosave, where_to_save
from nbclaude._session.formats import FORMATS
from nbclaude._session.reply import Reply
from nbclaude._session.session import Session, get_session

from . import commands
from .cell_errors import CellErrors
from .errors import Interrupted, clean
from .magic_api import (
    argument,
    cell_magic,
    line_magic,
    magic_arguments,
    magics_class,
    no_var_expand,
    parse_options,
    split_line,
)
from .options import image_option

__all__ = ["ClaudeMagics", "load_ipython_extension", "unload_ipython_extension"]

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

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
        list(FORMATS),
        default_value="markdown",
        help="How replies are shown.",
    ).tag(config=True)
    interpolate = Bool(True, help="Insert {name} variables into prompts.").tag(config=True)
    interval = Float(0.1, help="Least seconds between two updates of the live output.").tag(
        config=True
    )
    budget = Float(
        0.0,
        help="Budget in USD for the shared session (0 keeps the session's: none, or the hub's).",
    ).tag(config=True)
    autosave = Unicode(
        None,
        allow_none=True,
        help="Where the shared session saves itself after every turn: None beside the notebook "
        "(.nbclaude/<notebook name>.json; off with $NBCLAUDE_AUTOSAVE=0), a file, '' for off.",
    ).tag(config=True)

    def __init__(
        self,
        shell: Any = None,
        *,
        open_widget: Callable[[Session], Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(shell=shell, **kwargs)
        self._open_widget = open_widget
        self._cwd = os.getcwd()  # the notebook's folder: relative autosave paths start here
        self._apply_config()
        #: Saves the shared session after every turn, undo, reset and load, where
        #: ``autosave``, the notebook's name or ``$NBCLAUDE_AUTOSAVE`` say.
        self.keeper = Autosave(get_session(), lambda: where_to_save(
            self.autosave, environ=os.environ, user_ns=self.ip.user_ns, cwd=self._cwd))  # fmt: skip
        #: The errors of the cells that failed, for ``{Err}`` / ``{Err[n]}`` (plain text, the
        #: key blanked); :func:`load_ipython_extension` starts it watching the cells.
        self.errors = CellErrors(shell, hidden=lambda: secrets(get_session().client))

    @property
    def ip(self) -> Any:
        """The shell (magics are always registered on one)."""
        if self.shell is None:
            raise RuntimeError("ClaudeMagics must be registered on an IPython shell")
        return self.shell

    @observe("model", "system", "max_tokens", "budget")
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
        if self.budget:
            session.set_budget(self.budget, source="%config ClaudeMagics.budget")

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
        choices=list(FORMATS),
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

        ``{name}`` inserts a notebook variable (text, an image at that place, a DataFrame's
        shape, dtypes and first and last rows; ``{df:describe}`` adds its ``describe()``),
        ``{In[3]}`` / ``{Out[3]}`` a cell's input / output, ``{Err[3]}`` / ``{Err}`` the error
        and traceback of cell 3 / of the last cell that failed; ``{{`` and ``}}`` are literal
        braces. The turn joins the shared session: ``%claude history`` shows it, the chat
        widget sees it.

        Example::

            %%claude -m claude-haiku-4-5 -o answer
            What is in this chart? {fig} Why does this fail? {Err}
        """
        args = parse_options(self.claude_cell, line)
        cell = cell.strip()
        session = get_session()
        self.keeper.follow(session)
        if args.output is not None and not _IDENT.match(args.output):
            raise UsageError(f"-o needs a variable name, not {args.output!r}")
        if args.max_steps < 0:
            raise UsageError(f"--max-steps needs a whole number of 0 or more, not {args.max_steps}")
        fmt = args.format or self.format
        try:
            try:
                parts, warnings = self._prompt(cell, args, session)
            except KeyboardInterrupt:  # reading or resizing an image can take a while
                raise Interrupted(
                    "stopped while the prompt was prepared (images are read and resized "
                    "first); nothing was sent."
                ) from None
            params = self._params(args, session)
            if args.new:
                session.reset()
            reply = self._run(session, parts, args, params, fmt, warnings)
        except KeyboardInterrupt:
            raise
        except NbClaudeError as exc:
            raise clean(exc) from None
        if args.output:
            self.ip.user_ns[args.output] = reply

    def _prompt(self, cell: str, args: Any, session: Session) -> tuple[list[Any], list[str]]:
        from .interpolate import interpolate

        parts: list[Any] = [image_option(src, self.ip.user_ns) for src in args.image]
        warnings: list[str] = []
        if args.no_interpolate or not self.interpolate:
            parts.append(cell)
        else:
            more, warnings = interpolate(
                cell, self.ip.user_ns, secrets=secrets(session.client), errors=self.errors
            )
            parts += more
        return parts, warnings

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
        from .cell_turn import run_turn

        return run_turn(
            session, parts, args, params, fmt=fmt, warnings=warnings, shell=self.ip,
            interval=self.interval, stream=self.stream, keeper=self.keeper,
        )  # fmt: skip

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
            %claude resume [PATH]   bring back the autosave (or a saved .json / .ipynb)
            %claude widget          open the chat widget on this session
            %claude offline         use the offline fake API (no key, no network)
            %claude online          use the real API again
            %claude fix             ask Claude to explain the last error
            %claude policy          the course policy (NBCLAUDE_POLICY) and the budget
            %claude record PATH     append every exchange to a cassette (off: stop)
            %claude replay PATH     answer from a cassette, no key needed (off: stop)
        """
        self.keeper.follow(get_session())
        where = commands.Where(
            shell=self.ip, open_widget=self._open_widget, autosave=self.keeper, errors=self.errors
        )
        try:
            return commands.run(where, split_line(line))
        except NbClaudeError as exc:
            raise clean(exc) from None


def load_ipython_extension(
    ipython: Any, *, open_widget: Callable[[Session], Any] | None = None
) -> None:
    """Register the magics (``%load_ext nbclaude``); ``open_widget(session)`` makes the chat
    widget for ``%claude widget`` (the package passes it: the magics never import the widget).

    When this notebook's autosave holds a conversation (a kernel restart), says how to bring
    it back."""
    magics = ClaudeMagics(ipython, open_widget=open_widget)
    ipython.register_magics(magics)
    magics.errors.watch()
    commands.hint_resume(magics.keeper)


def unload_ipython_extension(ipython: Any) -> None:
    """Remove the magics (``%unload_ext nbclaude``)."""
    manager = ipython.magics_manager
    manager.magics["line"].pop("claude", None)
    manager.magics["cell"].pop("claude", None)
    magics = manager.registry.pop("ClaudeMagics", None)
    if isinstance(magics, ClaudeMagics):
        magics.errors.unwatch()
        magics.keeper.close()
