"""The course policy: ``NBCLAUDE_POLICY=/path/policy.toml``, set by whoever runs the hub.

One TOML file says what a class may do with Claude; every session made while the variable is
set reads it (a bad file is one clear :class:`~nbclaude.PolicyError` when the session is made,
so at ``%load_ext nbclaude``). It is enforced in one place, the
:class:`~nbclaude._session.builder.RequestBuilder`, so ``%%claude``, the chat widget,
``Session.send`` / ``stream`` / ``count_tokens`` and ``batch`` all obey it, before anything is
sent. The keys (all optional)::

    enabled = true          # false: Claude is off, every request is refused
    models = ["claude-haiku-4-5"]   # the models allowed (ids or aliases; dated ids match)
    max_tokens = 1024       # the most any reply may have: larger requests are lowered to it
    budget = 2.0            # USD per kernel: caps Session(budget=...) and NBCLAUDE_BUDGET
    system = "Give hints, not answers."   # put before every system prompt
    tools = false           # may requests offer tools?
    thinking = false        # may requests ask for extended thinking?
    batches = false         # may the class use Message Batches?
    log = "/srv/class/claude-log.jsonl"   # the instructor's log (one JSON line per turn)
    message = "Questions? Ask your teacher."   # shown with every refusal

Decisions:

- A session made without a ``model`` starts on the first of ``models`` when the default
  (``$NBCLAUDE_MODEL`` or ``claude-sonnet-5-5``) is not allowed.
- ``system`` is sent as a separate first block of the system prompt, before the user's own
  (their blocks stay as they are, ``cache_control`` included). It is the same in every request,
  so it is the start of the cached prefix and prompt caching works as before.
- Counting tokens is free, but it is a request on the class's key: it obeys ``enabled``,
  ``models``, ``tools`` and ``thinking`` and counts the policy's system text (so the count is
  what the turn would send); the budget does not apply to it.
- ``log`` may start with ``~`` and hold ``{user}`` (the JupyterHub user, else the login name),
  for one log per student; a relative path is relative to the policy file. Its folder must
  exist, and the file must be writable when the session is made.
- A policy guides an honest class: a student who controls their kernel can unset the variable.
  A gateway with per-student keys (README, "Teaching a class") enforces.
"""

from __future__ import annotations

import getpass
import importlib
import math
import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nbclaude._api.models import model_spec
from nbclaude._exceptions import PolicyError

from .money import usd

__all__ = [
    "BUDGET_ENV",
    "KEYS",
    "POLICY_ENV",
    "Policy",
    "budget_caps",
    "budget_from_environment",
    "policy_from_environment",
    "read_policy",
    "user_name",
]

POLICY_ENV = "NBCLAUDE_POLICY"
BUDGET_ENV = "NBCLAUDE_BUDGET"
#: The keys a policy file may hold, in the order ``%claude policy`` shows them.
KEYS = (
    "enabled", "models", "max_tokens", "budget", "system",
    "tools", "thinking", "batches", "log", "message",
)  # fmt: skip
_BOOLS = ("enabled", "tools", "thinking", "batches")
_DATE = re.compile(r"-\d{8}$")


@dataclass(frozen=True)
class Policy:
    """A course policy, as read from its file (:func:`read_policy`).

    Examples
    --------
    >>> p = Policy(path="/srv/policy.toml", models=("claude-haiku-4-5",), tools=False)
    >>> p.allows_model("claude-haiku-4-5-20251001"), p.allows_model("claude-opus-5")
    (True, False)
    >>> p.check({"model": "claude-opus-5", "max_tokens": 10, "messages": []}, kind="message")
    Traceback (most recent call last):
    ...
    nbclaude._exceptions.PolicyError: This course allows only these models: claude-haiku-4-5 ...
    """

    #: The file it came from (absolute).
    path: str
    enabled: bool = True
    models: tuple[str, ...] | None = None
    max_tokens: int | None = None
    budget: float | None = None
    system: str | None = None
    tools: bool = True
    thinking: bool = True
    batches: bool = True
    #: The log's path, ``~`` and ``{user}`` expanded (``None``: no log).
    log: str | None = None
    message: str | None = None

    def refuse(self, rule: str, text: str) -> PolicyError:
        """The :class:`~nbclaude.PolicyError` for ``rule``, naming the rule and the file."""
        return PolicyError(
            f"{text} (Refused by the course policy {self.path}, rule '{rule}'; nothing was sent.)",
            rule=rule,
            path=self.path,
            hint=self.message,
        )

    def allows_model(self, model: str) -> bool:
        """Whether ``model`` is allowed (an alias matches its dated ids and back)."""
        if self.models is None:
            return True
        return _canonical(model) in {_canonical(m) for m in self.models}

    def check(self, body: dict[str, Any], *, kind: str) -> dict[str, Any]:
        """Refuse ``body`` if the policy does not allow it, else return it with the policy's
        ``system`` put first and ``max_tokens`` capped. ``kind`` is ``"message"``,
        ``"count"`` (``count_tokens``) or ``"batch"`` (one request of a batch)."""
        if not self.enabled:
            raise self.refuse("enabled", "Claude is switched off for this course.")
        if kind == "batch" and not self.batches:
            raise self.refuse(
                "batches", "Message Batches are off in this course: send prompts one by one."
            )
        model = str(body.get("model") or "")
        if not self.allows_model(model):
            allowed = ", ".join(self.models or ())
            raise self.refuse(
                "models",
                f"This course allows only these models: {allowed} (not {model}). Switch with "
                f"%claude model {(self.models or ('',))[0]}, or -m in a %%claude cell.",
            )
        if body.get("tools") and not self.tools:
            raise self.refuse("tools", "Tools are off in this course: ask without them.")
        thinking = body.get("thinking")
        if _thinks(thinking) and not self.thinking:
            raise self.refuse("thinking", "Extended thinking is off in this course.")
        out = dict(body)
        cap = self.max_tokens
        if cap is not None and kind != "count" and int(out.get("max_tokens") or 0) > cap:
            out["max_tokens"] = cap
            budget_tokens = thinking.get("budget_tokens") if isinstance(thinking, dict) else None
            if isinstance(budget_tokens, int) and budget_tokens >= cap:
                raise self.refuse(
                    "max_tokens",
                    f"A thinking budget of {budget_tokens:,} tokens needs max_tokens above it, "
                    f"and this course caps max_tokens at {cap:,}: ask for a smaller thinking "
                    "budget.",
                )
        if self.system:
            out["system"] = [{"type": "text", "text": self.system}, *_blocks(out.get("system"))]
        return out

    def rows(self) -> list[tuple[str, str]]:
        """``(rule, value)`` for every key, as ``%claude policy`` shows them."""

        def show(value: Any) -> str:
            if value is None:
                return "—"
            if isinstance(value, bool):
                return "yes" if value else "no"
            if isinstance(value, tuple):
                return ", ".join(value)
            if isinstance(value, float):
                return usd(value)
            return str(value)

        rows = [(key, show(getattr(self, key))) for key in KEYS]
        return [(k, "any" if k == "models" and v == "—" else v) for k, v in rows]


def _thinks(thinking: Any) -> bool:
    if isinstance(thinking, Mapping):
        return thinking.get("type") not in (None, "disabled")
    return isinstance(thinking, int) and not isinstance(thinking, bool) and thinking > 0


def _blocks(system: Any) -> list[Any]:
    if not system:
        return []
    if isinstance(system, str):
        return [{"type": "text", "text": system}]
    return list(system)


def _canonical(model: str) -> str:
    spec = model_spec(model)
    return spec.id if spec is not None else _DATE.sub("", model.strip())


def user_name() -> str:
    """Who runs this kernel: ``$JUPYTERHUB_USER`` on a hub, else the login name.

    Examples
    --------
    >>> isinstance(user_name(), str)
    True
    """
    name = os.environ.get("JUPYTERHUB_USER")
    if name:
        return name
    try:
        return getpass.getuser()
    except Exception:  # no login name (some containers)
        return "unknown"


def _toml() -> Any:
    # tomllib is in the standard library from Python 3.11 on; tomli is the same parser for
    # 3.10 (a dependency there). Imported only when a policy is read: import nbclaude stays light.
    return importlib.import_module("tomllib" if sys.version_info >= (3, 11) else "tomli")


def read_policy(path: str | os.PathLike[str]) -> Policy:
    """Read and check the policy file at ``path``; a bad file is one clear
    :class:`~nbclaude.PolicyError` (rule ``"file"``) that says what is wrong.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "policy.toml"
    >>> _ = f.write_text('models = ["claude-haiku-4-5"]\\nmax_tokens = 512\\n')
    >>> p = read_policy(f)
    >>> p.models, p.max_tokens, p.enabled
    (('claude-haiku-4-5',), 512, True)
    >>> _ = f.write_text("modles = []\\n")
    >>> read_policy(f)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    nbclaude._exceptions.PolicyError: The course policy ... unknown key 'modles'; the keys are: ...
    """
    file = Path(path).expanduser().absolute()
    where = str(file)

    def bad(text: str) -> PolicyError:
        return PolicyError(
            f"The course policy {where} cannot be used: {text}",
            rule="file",
            path=where,
            hint=f"Fix the file, or unset {POLICY_ENV}; then restart the kernel.",
        )

    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise bad(f"it cannot be read ({exc.strerror or exc}).") from None
    except UnicodeDecodeError:
        raise bad("it is not UTF-8 text.") from None
    toml = _toml()
    try:
        data: dict[str, Any] = toml.loads(text)
    except toml.TOMLDecodeError as exc:
        raise bad(f"it is not valid TOML ({exc}).") from None
    for key in data:
        if key not in KEYS:
            raise PolicyError(
                f"The course policy {where} has an unknown key {key!r}; the keys are: "
                f"{', '.join(KEYS)}.",
                rule="file",
                path=where,
                hint=f"Fix the file, or unset {POLICY_ENV}; then restart the kernel.",
            )
    values: dict[str, Any] = {}
    for key in _BOOLS:
        if key in data:
            if not isinstance(data[key], bool):
                raise bad(f"{key} must be true or false, not {data[key]!r}.")
            values[key] = data[key]
    if "models" in data:
        models = data["models"]
        if isinstance(models, str):
            models = [models]
        if (
            not isinstance(models, list)
            or not models
            or not all(isinstance(m, str) and m.strip() for m in models)
        ):
            raise bad('models must be a list of model names, such as ["claude-haiku-4-5"].')
        values["models"] = tuple(m.strip() for m in models)
    if "max_tokens" in data:
        cap = data["max_tokens"]
        if isinstance(cap, bool) or not isinstance(cap, int) or cap < 1:
            raise bad(f"max_tokens must be a whole number >= 1, not {cap!r}.")
        values["max_tokens"] = cap
    if "budget" in data:
        values["budget"] = _dollars(data["budget"], bad, "budget")
    for key in ("system", "message"):
        if key in data:
            if not isinstance(data[key], str):
                raise bad(f"{key} must be text, not {data[key]!r}.")
            values[key] = data[key].strip() or None
    if "log" in data:
        values["log"] = _log_path(data["log"], file.parent, bad)
    return Policy(path=where, **values)


def _dollars(value: Any, bad: Any, name: str) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value < 0
    ):
        raise bad(f"{name} must be a number of US dollars >= 0, such as 2.0, not {value!r}.")
    return float(value)


def _log_path(value: Any, folder: Path, bad: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise bad(f"log must be the path of a file, not {value!r}.")
    path = Path(os.path.expanduser(value.strip().replace("{user}", user_name())))
    if not path.is_absolute():
        path = folder / path
    if not path.parent.is_dir():
        raise bad(f"the folder of the log, {path.parent}, does not exist.")
    try:  # appending must work now, not fail quietly at the first turn
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        os.close(fd)
    except OSError as exc:
        raise bad(f"the log {path} cannot be written ({exc.strerror or exc}).") from None
    return str(path)


def policy_from_environment() -> Policy | None:
    """The policy named by ``$NBCLAUDE_POLICY`` (``None`` when it is not set)."""
    path = os.environ.get(POLICY_ENV, "").strip()
    return read_policy(path) if path else None


def budget_caps(policy: Policy | None) -> list[tuple[float, str]]:
    """The budgets a session may not go past, whoever sets its own: ``$NBCLAUDE_BUDGET`` and
    the policy's ``budget``, each with who set it (for the refusal)."""
    caps: list[tuple[float, str]] = []
    env = budget_from_environment()
    if env is not None:
        caps.append((env, f"${BUDGET_ENV}"))
    if policy is not None and policy.budget is not None:
        caps.append((policy.budget, f"the course policy ({policy.path})"))
    return caps


def budget_from_environment() -> float | None:
    """``$NBCLAUDE_BUDGET`` in USD (``None`` when it is not set).

    Examples
    --------
    >>> import os
    >>> os.environ["NBCLAUDE_BUDGET"] = "2.5"
    >>> budget_from_environment()
    2.5
    >>> del os.environ["NBCLAUDE_BUDGET"]
    """
    text = os.environ.get(BUDGET_ENV, "").strip()
    if not text:
        return None

    def bad(message: str) -> PolicyError:
        return PolicyError(
            f"{BUDGET_ENV}={text!r} cannot be used: {message}", rule="budget", path=None
        )

    try:
        value = float(text)
    except ValueError:
        raise bad("it must be a number of US dollars, such as 2.0.") from None
    if not math.isfinite(value):
        raise bad("it must be a number of US dollars, such as 2.0.")
    return _dollars(value, bad, BUDGET_ENV)
