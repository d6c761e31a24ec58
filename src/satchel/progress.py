"""Progress bars on a terminal (rich, imported only then); nothing otherwise.

Commands ask for a ``Progress`` and open tasks on it; when stderr is not a terminal, or with -q,
every call is a no-op, so the summary lines are all that is printed.
"""

from __future__ import annotations

import sys
import threading
from types import TracebackType
from typing import Any


class Task:
    def __init__(self, progress: Any | None, task_id: Any | None) -> None:
        self._progress = progress
        self._id = task_id
        self._lock = threading.Lock()

    def advance(self, amount: float = 1) -> None:
        if self._progress is not None:
            with self._lock:
                self._progress.advance(self._id, amount)

    def add_total(self, amount: float) -> None:
        if self._progress is not None:
            with self._lock:
                task = self._progress.tasks[self._id]
                self._progress.update(self._id, total=(task.total or 0) + amount)

    def finish(self) -> None:
        if self._progress is not None:
            self._progress.update(self._id, visible=False)


class Progress:
    def __init__(self, enabled: bool | None = None) -> None:
        if enabled is None:
            enabled = sys.stderr.isatty()
        self.enabled = enabled
        self._rich: Any | None = None

    def __enter__(self) -> Progress:
        if self.enabled:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                DownloadColumn,
                MofNCompleteColumn,
                ProgressColumn,
                TextColumn,
                TimeElapsedColumn,
                TransferSpeedColumn,
            )
            from rich.progress import Progress as RichProgress
            from rich.text import Text

            class Amount(ProgressColumn):
                """Bytes and rate for downloads, N/M for everything else."""

                def __init__(self) -> None:
                    super().__init__()
                    self._bytes = DownloadColumn(binary_units=True)
                    self._rate = TransferSpeedColumn()
                    self._count = MofNCompleteColumn()

                def render(self, task: Any) -> Text:
                    if task.fields.get("unit") == "bytes":
                        return Text.assemble(self._bytes.render(task), " ", self._rate.render(task))
                    return self._count.render(task)

            self._rich = RichProgress(
                TextColumn("{task.description:<12}"),
                BarColumn(bar_width=30),
                Amount(),
                TimeElapsedColumn(),
                console=Console(file=sys.stderr),
                transient=True,
            )
            self._rich.__enter__()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._rich is not None:
            self._rich.__exit__(exc_type, exc, tb)
            self._rich = None

    def task(self, description: str, total: float | None = None, *, unit: str = "") -> Task:
        if self._rich is None:
            return Task(None, None)
        return Task(self._rich, self._rich.add_task(description, total=total, unit=unit))
