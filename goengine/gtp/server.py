"""The GTP loop over a pair of text streams (stdin/stdout for a GUI).

A reader thread reads input lines into a queue, stamped with their arrival time (a move's time
budget counts from when the controller sent the command). The main thread takes them in order
and writes each reply whole, flushed. A streaming command (analysis) checks `input_pending`
between chunks of search and ends its reply as soon as the next line is waiting. End of input
ends the loop, as does `quit`.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from typing import IO, Optional

from .engine import Engine
from .protocol import parse_command

log = logging.getLogger("goengine.gtp")
_EOF = None
IDLE_BEFORE_WARMUP = 0.05  # seconds without input after which the warm-up starts


class Server:
    def __init__(self, engine: Engine, stdin: IO[str], stdout: IO[str]):
        self.engine = engine
        self.stdin = stdin
        self.stdout = stdout
        self.lines: queue.Queue = queue.Queue()
        self._reader = threading.Thread(target=self._read, name="gtp-stdin", daemon=True)
        self._eof = threading.Event()
        engine.input_pending = self.input_pending

    def input_pending(self) -> bool:
        return not self.lines.empty() or self._eof.is_set()

    def _read(self) -> None:
        try:
            for line in self.stdin:
                self.lines.put((line, time.monotonic()))
        except (OSError, ValueError) as e:
            log.warning("input closed: %s", e)
        finally:
            self._eof.set()
            self.lines.put(_EOF)

    def _write(self, text: str) -> None:
        try:
            self.stdout.write(text)
            self.stdout.flush()
        except (BrokenPipeError, OSError, ValueError):
            self.engine.quit_requested = True  # nobody is listening any more

    def serve(self) -> int:
        """Answer commands until quit or the end of input. The warm-up (loading the numba
        kernels holds the interpreter for seconds) starts once no command is waiting, so the
        first commands a GUI sends on start-up (name, version, list_commands) are answered
        without waiting for it."""
        self._reader.start()
        while not self.engine.quit_requested:
            try:
                item: Optional[tuple[str, float]] = self.lines.get(timeout=IDLE_BEFORE_WARMUP)
            except queue.Empty:
                self.engine.start_warmup()
                continue
            if item is _EOF:
                break
            raw, received_at = item
            command = parse_command(raw)
            if command is None:
                continue
            self.engine.execute(command, self._write, received_at)
            if self.lines.empty():
                self.engine.start_warmup()
        return 0
