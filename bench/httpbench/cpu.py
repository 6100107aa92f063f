"""CPU time from /proc: of given processes, of the local PostgreSQL server, of the machine."""

from __future__ import annotations

import contextlib
import os
import resource
from collections.abc import Sequence
from pathlib import Path

CORES = os.cpu_count() or 1


def cpu_seconds(pids: Sequence[int]) -> float:
    """Return the user + system CPU time of these processes (all their threads)."""
    ticks = 0
    for pid in pids:
        with contextlib.suppress(OSError):  # a process that ended meanwhile
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def postgres_pids() -> list[int]:
    """Return the pids of the local PostgreSQL server's processes (none if it runs elsewhere)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if (entry / "comm").read_text().strip() == "postgres":
                    found.append(int(entry.name))
    return found


def machine_ticks() -> tuple[int, int]:
    """Return the machine's total and idle CPU ticks since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return sum(values[:8]), values[3] + values[4]


def children_cpu_seconds() -> float:
    """Return the user + system CPU time of this process's children that have ended (wrk)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime
