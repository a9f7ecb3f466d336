"""When and how long the client waits before trying again: the official SDK's schedule."""

from __future__ import annotations

import time

from nbclaude._client.retry import retry_delay


def test_retry_delay_schedule_matches_the_sdk() -> None:
    assert [retry_delay(n, rand=0.0) for n in range(6)] == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0]
    assert retry_delay(0, rand=1.0) == 0.375  # up to -25 % jitter
    assert retry_delay(3, {"retry-after-ms": "250"}) == 0.25
    assert retry_delay(3, {"retry-after-ms": "250", "retry-after": "9"}) == 0.25
    assert retry_delay(3, {"retry-after": "9"}) == 9.0
    assert retry_delay(0, {"retry-after": "61"}, rand=0.0) == 0.5  # over 60 s: ignored
    assert retry_delay(0, {"retry-after": "0"}, rand=0.0) == 0.5  # 0 is not > 0
    assert retry_delay(0, {"retry-after": "soon"}, rand=0.0) == 0.5
    date = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(time.time() + 30))
    assert 25 < retry_delay(0, {"retry-after": date}) <= 30
