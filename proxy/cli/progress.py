"""Progress bars (rich) for the commands' long operations, on a terminal only.

Written to stderr and cleared when done, so stdout stays what scripts parse; when stderr
is not a terminal (CI, pipes, tests) nothing is drawn at all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

Advance = Callable[[int], None]


def console() -> Console:
    return Console(stderr=True)


def shown(out: Console | None = None) -> bool:
    """Whether a bar would be drawn: only when stderr is a terminal."""
    return (out or console()).is_terminal


@contextmanager
def bar(description: str, total: int | None, *, out: Console | None = None) -> Iterator[Advance]:
    """A bar for `total` steps (a spinner when None); yields `advance(n)`."""
    out = out or console()
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=out, disable=not out.is_terminal, transient=True) as progress:
        task = progress.add_task(description, total=total)

        def advance(steps: int = 1) -> None:
            progress.advance(task, steps)

        yield advance
