"""Progress lines on stderr, so stdout stays clean for `status --json`."""

import sys
import time

_T0 = time.monotonic()


def say(message: str) -> None:
    """Print one progress line, prefixed with seconds since the command started."""
    print(f"[lab +{time.monotonic() - _T0:6.1f}s] {message}", file=sys.stderr, flush=True)
