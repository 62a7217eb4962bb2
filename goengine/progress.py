"""Progress of a long job that reads right on a terminal and in a log.

On a terminal (the stream is a TTY) a tqdm bar. Anywhere else (a log file, a pipe, a job
scheduler's capture), where a bar's carriage returns turn into one unreadable line, a plain
line every `every` seconds and one when the job ends:

    gen 3 self-play: 4120/9000 pos (46%), 812 pos/s, games 52/120, 5m04s, ~6m left

`fields` (set with `set_fields`, shown from the next update) follow the counts, in the bar and
in the lines alike. Totals
may be estimates and change (`set_total`): self-play counts positions, whose total is only
known once games have ended.
"""

from __future__ import annotations

import sys
import time
from typing import Callable, Optional, TextIO

# Seconds between two plain progress lines.
DEFAULT_EVERY = 30.0


def _is_terminal(stream: TextIO) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def _duration(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


class Progress:
    """A bar on a terminal, plain lines elsewhere; nothing at all when not `enabled`.
    `initial` counts work done before this session (a resumed job); the rate counts only
    this session's."""

    def __init__(self, total: Optional[float], desc: str, unit: str, *, initial: float = 0, enabled: bool = True,
                 every: float = DEFAULT_EVERY, stream: Optional[TextIO] = None, leave: bool = False,
                 clock: Callable[[], float] = time.monotonic):
        self.desc, self.unit = desc, unit
        self.total = total
        self.n = initial
        self._initial = initial
        self._stream = stream if stream is not None else sys.stderr
        self._clock = clock
        self._every = every
        self._enabled = enabled
        self._started = self._last_line = clock()
        self._fields = ""
        self.interactive = enabled and _is_terminal(self._stream)
        self._bar = None
        if self.interactive:
            from tqdm import tqdm

            self._bar = tqdm(total=total, initial=initial, desc=desc, unit=unit, leave=leave, dynamic_ncols=True,
                             file=self._stream)

    # --- updates -----------------------------------------------------------------------------

    def update(self, n: float = 1) -> None:
        self.n += n
        if self._bar is not None:
            self._bar.update(n)
        self._maybe_line()

    def update_to(self, n: float) -> None:
        """Set the count (never backwards)."""
        if n > self.n:
            self.update(n - self.n)

    def set_total(self, total: Optional[float]) -> None:
        self.total = total
        if self._bar is not None:
            self._bar.total = total
            self._bar.refresh()

    def set_fields(self, text: str) -> None:
        self._fields = text
        if self._bar is not None:
            self._bar.set_postfix_str(text)

    def write(self, text: str, file: Optional[TextIO] = None) -> None:
        """A message that does not break the bar, to `file` (default: the bar's stream);
        always shown, even when not enabled."""
        out = file if file is not None else self._stream
        if self._bar is not None:
            self._bar.write(text, file=out)
        else:
            print(text, file=out, flush=True)

    def close(self, summary: bool = True) -> None:
        """End the bar; in a log, print the last line unless `summary` is False (the job
        failed, and its error is what should be read)."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        elif self._enabled and not self.interactive and summary:
            self._print_line()
        self._enabled = False

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, exc_type, *exc) -> None:
        self.close(summary=exc_type is None)

    # --- plain lines -------------------------------------------------------------------------

    def line(self) -> str:
        """The plain progress line for now."""
        elapsed = self._clock() - self._started
        done = self.n - self._initial
        rate = done / elapsed if elapsed > 0 else 0.0
        parts = [f"{self.n:.0f}/{self.total:.0f} {self.unit}" if self.total else f"{self.n:.0f} {self.unit}"]
        if self.total:
            parts[0] += f" ({min(100.0, 100.0 * self.n / self.total):.0f}%)"
        parts.append(f"{rate:.0f}" if rate >= 100 else f"{rate:.1f}" if rate >= 10 else f"{rate:.2f}")
        parts[-1] += f" {self.unit}/s"
        if self._fields:
            parts.append(self._fields)
        parts.append(_duration(elapsed))
        if self.total and rate > 0 and self.n < self.total:
            parts.append(f"~{_duration((self.total - self.n) / rate)} left")
        return f"{self.desc}: " + ", ".join(parts)

    def _maybe_line(self) -> None:
        if not self._enabled or self.interactive:
            return
        if self._clock() - self._last_line >= self._every:
            self._print_line()

    def _print_line(self) -> None:
        self._last_line = self._clock()
        print(self.line(), file=self._stream, flush=True)
