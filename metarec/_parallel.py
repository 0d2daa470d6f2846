"""How many threads metarec's own parallel work may use."""

from __future__ import annotations

import os

#: threads at most for metarec's own thread pools (small fits, model parsing)
MAX_THREADS = 4


def usable_cpus(cap: int = MAX_THREADS) -> int:
    """The CPUs this process may run on (its affinity where the OS reports one), at most ``cap``, at least 1."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    return max(1, min(int(cap), cpus))
