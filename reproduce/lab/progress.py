"""Progress of the reproduction: `rich` bars on a terminal, plain lines otherwise (CI logs).

The command line opens `bars(parts)` around its work: on a terminal that shows an overall bar
(parts done of `parts`, elapsed; the part running) and, for every trainer run, a bar with
iterations/s, time elapsed and time left. Without a terminal, or outside `bars` (tests, notebooks), every run prints the plain
lines it always printed: one when it starts, one every `PLAIN_EVERY_S` seconds, one when done.
"""

from __future__ import annotations

import contextlib
import threading
import time

from rich.console import Console
from rich.progress import BarColumn
from rich.progress import MofNCompleteColumn
from rich.progress import Progress
from rich.progress import ProgressColumn
from rich.progress import TextColumn
from rich.progress import TimeElapsedColumn
from rich.progress import TimeRemainingColumn
from rich.table import Column
from rich.text import Text

#: Seconds between two plain progress lines of one run.
PLAIN_EVERY_S = 15.0

# The bars while `bars()` is open on a terminal, else None. Runs start in worker threads.
_live: Progress | None = None
_lock = threading.Lock()


class IterationsPerSecond(ProgressColumn):
    """A run's speed in training iterations per second (rich's own speed column is bytes)."""

    def render(self, task) -> Text:
        if not task.fields.get("runs_iterations"):
            return Text("")  # the overall bar counts parts, whose rate means nothing
        speed = task.finished_speed or task.speed
        return Text("" if speed is None else f"{speed:,.0f} it/s", style="progress.data.speed")


class Overall:
    """The overall bar: `start(name)` names the part running, `done()` counts it as over."""

    def __init__(self, live: Progress | None = None, parts: int = 0):
        self.live = live
        self.task = None if live is None else live.add_task("parts", total=parts)

    def start(self, name: str) -> None:
        if self.live is not None:
            self.live.update(self.task, description=f"{name} (parts done)")

    def done(self) -> None:
        if self.live is not None:
            self.live.advance(self.task)


def columns():
    """The bars' columns. Only the label gives way to a narrow terminal (cut with "…"): the
    numbers keep their full width, so an 80-column terminal shows every count, speed and time."""
    fixed = dict(no_wrap=True, overflow="crop")
    return (TextColumn("{task.description}", table_column=Column(ratio=1, min_width=8, no_wrap=True,
                                                                  overflow="ellipsis")),
            BarColumn(bar_width=12, table_column=Column(**fixed)),
            MofNCompleteColumn(table_column=Column(**fixed)),
            IterationsPerSecond(table_column=Column(**fixed)),
            TimeElapsedColumn(table_column=Column(**fixed)),
            TextColumn("left", table_column=Column(**fixed)),
            TimeRemainingColumn(table_column=Column(**fixed)))


@contextlib.contextmanager
def bars(parts: int, console: Console | None = None):
    """Show the overall bar of `parts` parts, and the runs' bars, while open, if `console`
    (default: stdout's) is a terminal. Yields an `Overall` (inert without a terminal)."""
    global _live
    console = console or Console()
    if not console.is_terminal or _live is not None:
        yield Overall()
        return
    live = Progress(*columns(), console=console, refresh_per_second=4, expand=True)
    overall = Overall(live, parts)
    with _lock:
        _live = live
    try:
        with live:
            yield overall
    finally:
        with _lock:
            _live = None


class RunProgress:
    """One trainer run's progress: a bar under `bars()` on a terminal, else plain lines."""

    def __init__(self, label: str, steps: int, intro: str):
        self.label, self.started = label, time.perf_counter()
        self.last_line = self.started
        with _lock:
            self.live = _live
            self.task = (None if self.live is None else
                         self.live.add_task(f"  {label}", total=steps,
                                                 runs_iterations=True))
        if self.live is None:
            print(intro, flush=True)

    def update(self, done: int, total: int, status: str) -> None:
        """`done` of `total` iterations; `status` says what is running (plain lines only)."""
        if self.live is not None:
            self.live.update(self.task, completed=done, total=total)
            return
        now = time.perf_counter()
        if now - self.last_line >= PLAIN_EVERY_S:
            self.last_line = now
            print(f"    {self.label}: {done:,}/{total:,} iterations, {status}, "
                  f"{now - self.started:.0f} s", flush=True)

    def finish(self, line: str) -> None:
        """Remove the bar (if any) and print `line`, the run's outcome."""
        self.close()
        if self.live is not None:
            self.live.console.print(line, markup=False, highlight=False)
        else:
            print(line, flush=True)

    def close(self) -> None:
        """Remove the bar (if any); for a run that stopped with an error."""
        if self.live is not None and self.task in self.live.task_ids:
            self.live.remove_task(self.task)
