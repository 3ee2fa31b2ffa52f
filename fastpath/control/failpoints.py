"""Named points where a crash test can freeze the controller and then kill it.

`FASTPATH_FAILPOINTS=after-boot,before-run` makes the controller stop dead at
those points (it writes a marker into `FASTPATH_FAILPOINT_DIR` and sleeps), so
that a test can SIGKILL the scheduler at exactly that instant: once a step is
recorded and before it acts (`before-<step>`), or once it acted and before
the next step is recorded (`after-<step>`). `freeze` points SIGSTOP the
process instead, inside a fenced write's transaction: `in-fence` (any),
`in-grant` (a lease grant), `in-assign` (a job assignment). Unset, every
point is a no-op.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

ENABLED = frozenset(filter(None, os.environ.get("FASTPATH_FAILPOINTS", "").split(",")))
MARKERS = os.environ.get("FASTPATH_FAILPOINT_DIR", "")


def reach(name: str) -> None:
    if name not in ENABLED:
        return
    if MARKERS:
        Path(MARKERS, name).touch()
    while True:  # frozen here until killed
        time.sleep(3600)


_frozen: set[str] = set()
_once = threading.Lock()


def freeze(name: str) -> None:
    """Stop the whole process (SIGSTOP) the first time `name` is reached, as a GC pause or a
    stalled VM would; it goes on where it stopped when sent SIGCONT."""
    if name not in ENABLED:
        return
    with _once:
        if name in _frozen:
            return
        _frozen.add(name)
    if MARKERS:
        Path(MARKERS, name).touch()
    os.kill(os.getpid(), signal.SIGSTOP)
