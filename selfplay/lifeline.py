"""Child processes that end with their parent.

A parent killed alone (kill -9 of its pid, or the out-of-memory killer, which picks one
process) leaves its children running; self-play workers would go on writing records that a
restarted parent then counts a second time. `die_with_parent(pid)`, called first thing in a
child, ends the child when that parent goes: on Linux the kernel sends it SIGKILL the moment
the parent dies (prctl PR_SET_PDEATHSIG); elsewhere, and as a second line, a daemon thread
looks at the parent's pid twice a second and ends the process when it has changed (the child
was handed to another process).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import sys
import threading
import time

PR_SET_PDEATHSIG = 1
POLL_SECONDS = 0.5


def _set_parent_death_signal() -> bool:
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
        return libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _watch(parent_pid: int) -> None:
    while True:
        if os.getppid() != parent_pid:
            os._exit(1)  # nothing to clean up that the parent's restart does not
        time.sleep(POLL_SECONDS)


def die_with_parent(parent_pid: int) -> None:
    """End this process when the process `parent_pid` (its parent) ends."""
    _set_parent_death_signal()
    # The parent may have died before the line above: then the child already has a new parent.
    if os.getppid() != parent_pid:
        os._exit(1)
    threading.Thread(target=_watch, args=(parent_pid,), name="lifeline", daemon=True).start()
