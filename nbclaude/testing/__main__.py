"""``python -m nbclaude.testing serve --port N [--host 127.0.0.1] [--api-key KEY]``.

Runs the fake API's loopback server in the foreground. The first line of stdout is exactly its
URL (flushed at once), so a test or CI script can read it; SIGTERM and SIGINT stop it cleanly
(exit status 0).
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m nbclaude.testing",
        description="nbclaude's offline fake of Anthropic's Messages API.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser(
        "serve",
        help="run the loopback server; prints its URL on the first line of stdout",
        description="Run the fake API on a loopback HTTP server until killed.",
    )
    serve.add_argument("--port", type=int, default=0, help="port to listen on (0: a free one)")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (127.0.0.1)")
    serve.add_argument(
        "--api-key",
        default=None,
        help="accept only this key (default: any non-empty key)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = _parser().parse_args(argv)
    from ._fake import FakeAnthropic

    try:
        server = FakeAnthropic(api_key=args.api_key).serve(host=args.host, port=args.port)
    except OSError as exc:
        print(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    print(server.url, flush=True)
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        server.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
