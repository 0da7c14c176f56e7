"""Measuring a process tree from /proc: CPU time (utime + stime) and resident memory (RSS).

`cpu_seconds` is read before and after a phase; `RssSampler` samples RSS every 100 ms in a thread
and keeps the peaks (whole run and current window) and a coarse time series.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from systems import Target

TICKS = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def tree(root: int) -> list[int]:
    """`root` and all its descendants that are alive."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(entry))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        if Path(f"/proc/{pid}").exists():
            found.append(pid)
            todo.extend(children.get(pid, []))
    return found


def cpu_seconds(root: int) -> float:
    """utime + stime of `root` and its live descendants, in seconds."""
    total = 0
    for pid in tree(root):
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
    return total / TICKS


def thread_ticks(pid: int) -> dict[int, tuple[str, int]]:
    """Every thread of `pid`: its name and utime + stime in clock ticks."""
    found = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        with contextlib.suppress(OSError):
            stat = Path(f"/proc/{pid}/task/{tid}/stat").read_text()
            name = stat[stat.index("(") + 1 : stat.rindex(")")]
            fields = stat.rsplit(")", 1)[1].split()
            found[int(tid)] = (name, int(fields[11]) + int(fields[12]))
    return found


def rss_mb(root: int) -> float:
    """Resident memory of `root` and its live descendants, in MB (MiB)."""
    total = 0
    for pid in tree(root):
        with contextlib.suppress(OSError, IndexError):
            total += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE
    return total / (1 << 20)


class RssSampler(threading.Thread):
    """Samples the RSS of some process trees every `interval` s; keeps the peaks and a time series."""

    def __init__(self, interval: float = 0.1) -> None:
        super().__init__(daemon=True)
        self.interval = interval
        self.roots: dict[str, int] = {}
        self.peak: dict[str, float] = {}
        self.window_peak: dict[str, float] = {}
        self.series: dict[str, list[tuple[float, float]]] = {}
        self.lock = threading.Lock()
        self.done = threading.Event()
        self.t0 = time.monotonic()

    def watch(self, name: str, pid: int) -> None:
        with self.lock:
            self.roots[name] = pid

    def unwatch(self, name: str) -> None:
        with self.lock:
            self.roots.pop(name, None)

    def reset_window(self) -> None:
        with self.lock:
            self.window_peak = {}

    def run(self) -> None:
        ticks = 0
        while not self.done.wait(self.interval):
            with self.lock:
                roots = dict(self.roots)
            for name, pid in roots.items():
                mb = rss_mb(pid)
                with self.lock:
                    self.peak[name] = max(self.peak.get(name, 0.0), mb)
                    self.window_peak[name] = max(self.window_peak.get(name, 0.0), mb)
                    if ticks % 10 == 0:
                        self.series.setdefault(name, []).append((time.monotonic() - self.t0, mb))
            ticks += 1


@contextlib.contextmanager
def accounted(sampler: RssSampler, target: Target, into: dict[str, Any]) -> Iterator[None]:
    """CPU seconds and peak RSS of `target`'s processes over the block, into `into`."""
    before = cpu_seconds(target.pid) if target.pid else 0.0
    sampler.reset_window()
    started = time.monotonic()
    yield
    into["wall_s"] = round(time.monotonic() - started, 2)
    if target.pid:
        into["server_cpu_s"] = round(cpu_seconds(target.pid) - before, 3)
        into["server_peak_rss_mb"] = round(sampler.window_peak.get(target.name, 0.0), 1)
