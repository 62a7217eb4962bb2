"""A client for external Go engines that speak GTP (version 2) over stdin/stdout.

`GtpClient` starts an engine as a child process and exchanges commands with it:

    with GtpClient(["/usr/games/gnugo", "--mode", "gtp"], timeout=10) as engine:
        engine.boardsize(9)
        engine.clear_board()
        engine.play("black", "E5")
        reply = engine.genmove("white")      # "D4", "pass" or "resign"

Wire format. Each command goes out as one line, `<id> <name> <args...>`, with a fresh integer
id (or without the id, for engines that cannot take one). `send_many` writes several commands
before reading their replies, which GTP allows and which saves a round trip per command. A reply is `=<id> <text>` (success) or `?<id> <text>` (failure), possibly over several
lines, ended by one empty line. Lines before a reply's first line (stray output some engines
print) are kept in `noise` and otherwise ignored; '\r' is stripped.

Representations. Colours go out as "black"/"white" (the helpers accept "b", "w", "black",
"white" in any case). Vertices are strings as GTP writes them: an upper-case column letter
(no "I") and a row counted from the bottom, e.g. "D4"; helpers return them upper-cased, and
"pass"/"resign" lower-cased. Lists of vertices are Python lists of such strings.

Failures are told apart by exception type, all derived from `GtpClientError`:
- `GtpError`: the engine answered `?` (an illegal move, an unknown command); the session goes on.
- `GtpTimeout`: no complete reply within the command's timeout. The engine keeps running and
  the late reply, when it comes, is recognised by its id (or, for engines that drop ids, by its
  order) and discarded, so later commands stay in step.
- `GtpEngineDied`: the process exited or closed its stdout; every later command raises it too.
Starting a program that does not exist raises the OSError from `subprocess.Popen`.

Threads. A reader thread frames stdout into complete replies and hands them over a queue, so a
wait never blocks past its deadline; another thread drains stderr (into a file or nowhere,
keeping the last lines for error messages) so a chatty engine cannot fill the pipe and stall.
One lock serialises commands, so a client may be shared between threads. Use the client as a
context manager (or call `close`) so the engine is always stopped. Streaming commands
(lz-analyze and the like, whose reply has no end until more input arrives) are not supported.
"""

from __future__ import annotations

import collections
import os
import queue
import re
import shlex
import subprocess
import threading
import time
from typing import IO, Optional, Sequence, Union

__all__ = [
    "GtpClient", "GtpClientError", "GtpError", "GtpTimeout", "GtpEngineDied", "GtpProtocolError",
    "GtpResponse", "normalise_colour", "normalise_vertex",
]

_REPLY_START = re.compile(r"^([=?])(\d*)(?:[ \t]+(.*))?$", re.DOTALL)
_EOF = object()  # queue marker: the engine closed its stdout
_STDERR_TAIL_LINES = 40


class GtpClientError(Exception):
    """Base of every error this module raises about an engine."""


class GtpError(GtpClientError):
    """The engine answered a command with failure (`? text`). `command` is the line sent
    (without the id), `message` the engine's text."""

    def __init__(self, command: str, message: str):
        super().__init__(f"{command!r} failed: {message}")
        self.command = command
        self.message = message


class GtpTimeout(GtpClientError):
    """No complete reply came within the timeout."""


class GtpEngineDied(GtpClientError):
    """The engine process exited or closed its output. `returncode` is its exit status when
    known, `stderr_tail` the last lines it wrote to stderr."""

    def __init__(self, message: str, returncode: Optional[int] = None, stderr_tail: str = ""):
        detail = message
        if returncode is not None:
            detail += f" (exit status {returncode})"
        if stderr_tail:
            detail += f"; last stderr lines:\n{stderr_tail}"
        super().__init__(detail)
        self.returncode = returncode
        self.stderr_tail = stderr_tail


class GtpProtocolError(GtpClientError):
    """The engine sent something that cannot be a reply to the command in flight."""


class GtpResponse:
    """One framed reply: `ok` (True for '='), `id` (int or None) and `text` (lines joined
    with '\n', the first line without its '=id ' prefix)."""

    __slots__ = ("ok", "id", "text")

    def __init__(self, ok: bool, id: Optional[int], text: str):
        self.ok = ok
        self.id = id
        self.text = text

    def __repr__(self) -> str:
        return f"GtpResponse(ok={self.ok}, id={self.id}, text={self.text!r})"


def normalise_colour(colour: str) -> str:
    """'b'/'black'/'w'/'white' in any case -> 'black' or 'white'."""
    text = str(colour).strip().lower()
    if text in ("b", "black"):
        return "black"
    if text in ("w", "white"):
        return "white"
    raise ValueError(f"invalid colour {colour!r}")


def normalise_vertex(vertex: str) -> str:
    """A vertex as the helpers return it: 'pass'/'resign' lower-case, points upper-case."""
    text = vertex.strip()
    low = text.lower()
    if low in ("pass", "resign"):
        return low
    return text.upper()


def _split_vertices(text: str) -> list[str]:
    return [normalise_vertex(v) for v in text.split()]


class GtpClient:
    """A running GTP engine. See the module docstring for the protocol and the errors.

    `command`: the program and its arguments, as a list or as one string split with shlex.
    `timeout`: default seconds to wait for each reply (None waits without limit; the wait still
    ends if the engine dies). `stderr_log`: a path that receives the engine's stderr (appended),
    or None to discard it. `use_ids`: prefix commands with ids (turn off for engines that choke
    on them). `quit_grace`: seconds `close` waits for the engine to exit after `quit`, and again
    after terminate, before killing it. `cwd` and `env` go to `subprocess.Popen`.
    """

    def __init__(self, command: Union[str, Sequence[str]], *, timeout: Optional[float] = 30.0,
                 stderr_log: Union[str, os.PathLike, None] = None, use_ids: bool = True,
                 quit_grace: float = 2.0, cwd: Union[str, os.PathLike, None] = None,
                 env: Optional[dict] = None):
        self.argv = shlex.split(command) if isinstance(command, str) else [str(a) for a in command]
        if not self.argv:
            raise ValueError("empty engine command")
        self.timeout = timeout
        self.use_ids = use_ids
        self.quit_grace = quit_grace
        self.noise: collections.deque[str] = collections.deque(maxlen=100)
        self._stderr_tail: collections.deque[str] = collections.deque(maxlen=_STDERR_TAIL_LINES)
        self._replies: queue.Queue = queue.Queue()
        self._lock = threading.Lock()
        self._next_id = 1
        self._stale: collections.deque[Optional[int]] = collections.deque()  # timed-out ids, oldest first
        self._dead = False
        self._closed = False
        self._known_commands: Optional[list[str]] = None
        self._stderr_file: Optional[IO[bytes]] = open(stderr_log, "ab") if stderr_log is not None else None
        try:
            self.process = subprocess.Popen(self.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                            stderr=subprocess.PIPE, cwd=cwd, env=env)
        except BaseException:
            if self._stderr_file is not None:
                self._stderr_file.close()
            raise
        name = os.path.basename(self.argv[0])
        self._reader = threading.Thread(target=self._read_stdout, name=f"gtp-stdout-{name}", daemon=True)
        self._drainer = threading.Thread(target=self._drain_stderr, name=f"gtp-stderr-{name}", daemon=True)
        self._reader.start()
        self._drainer.start()

    # --- threads -----------------------------------------------------------------------------

    def _read_stdout(self) -> None:
        """Frame stdout into GtpResponse objects; put _EOF when the pipe closes."""
        stream = self.process.stdout
        assert stream is not None
        current: Optional[list[str]] = None
        start: Optional[re.Match] = None
        try:
            for raw in iter(stream.readline, b""):
                line = raw.decode("utf-8", errors="replace").rstrip("\r\n").replace("\r", "")
                if current is None:
                    if not line.strip():
                        continue
                    match = _REPLY_START.match(line)
                    if match is None:
                        self.noise.append(line)
                        continue
                    start, current = match, [match.group(3) or ""]
                elif line.strip():
                    current.append(line)
                else:
                    self._replies.put(GtpResponse(start.group(1) == "=",
                                                  int(start.group(2)) if start.group(2) else None,
                                                  "\n".join(current).strip()))
                    current = None
        except (OSError, ValueError):
            pass  # the pipe was closed under us during shutdown
        finally:
            self._replies.put(_EOF)

    def _drain_stderr(self) -> None:
        stream = self.process.stderr
        assert stream is not None
        try:
            for raw in iter(stream.readline, b""):
                self._stderr_tail.append(raw.decode("utf-8", errors="replace").rstrip("\r\n"))
                if self._stderr_file is not None:
                    self._stderr_file.write(raw)
                    self._stderr_file.flush()
        except (OSError, ValueError):
            pass

    # --- the exchange ------------------------------------------------------------------------

    @property
    def alive(self) -> bool:
        return not self._dead and self.process.poll() is None

    @property
    def stderr_tail(self) -> str:
        """The last lines the engine wrote to stderr."""
        return "\n".join(self._stderr_tail)

    def _died(self, what: str) -> GtpEngineDied:
        self._dead = True
        try:
            code = self.process.wait(timeout=1.0)
        except subprocess.TimeoutExpired:
            code = None
        self._drainer.join(timeout=0.5)
        return GtpEngineDied(what, code, self.stderr_tail)

    def send(self, command: str, timeout: Optional[float] = None) -> GtpResponse:
        """Send one command line and return its reply, '?' replies included (no GtpError).
        Raises GtpTimeout, GtpEngineDied, GtpProtocolError, or ValueError for a command that
        would not be one line. `timeout` None means the client's default."""
        return self.send_many([command], timeout=timeout)[0]

    def send_many(self, commands: Sequence[str], timeout: Optional[float] = None) -> list[GtpResponse]:
        """Send several command lines at once and return their replies in order ('?' replies
        included). The engine still answers them one after another, but the round trips overlap,
        which matters for many cheap queries. `timeout` bounds the whole batch; on a timeout the
        replies still owed are discarded when they arrive. Raises what `send` raises."""
        lines = []
        for command in commands:
            if "\n" in command or "\r" in command:
                raise ValueError(f"a GTP command must be one line: {command!r}")
            if not command.strip():
                raise ValueError("empty GTP command")
            lines.append(command.strip())
        if not lines:
            return []
        wait = self.timeout if timeout is None else timeout
        with self._lock:
            if self._closed:
                raise GtpEngineDied("the client was closed")
            if self._dead:
                raise GtpEngineDied("the engine is no longer running", self.process.returncode, self.stderr_tail)
            ids: list[Optional[int]] = []
            for _ in lines:
                ids.append(self._next_id if self.use_ids else None)
                self._next_id += 1
            wire = "".join(f"{cid} {line}\n" if cid is not None else f"{line}\n" for cid, line in zip(ids, lines))
            try:
                assert self.process.stdin is not None
                self.process.stdin.write(wire.encode("utf-8"))
                self.process.stdin.flush()
            except (BrokenPipeError, OSError, ValueError):
                raise self._died(f"could not send {lines[0]!r}: the engine's stdin is closed") from None
            deadline = None if wait is None else time.monotonic() + wait
            replies = []
            for k, (line, cid) in enumerate(zip(lines, ids)):
                try:
                    replies.append(self._await_reply(line, cid, deadline))
                except GtpTimeout:
                    self._stale.extend(ids[k:])
                    raise GtpTimeout(f"no reply to {line!r} within {wait} s") from None
            return replies

    def _await_reply(self, command: str, cid: Optional[int], deadline: Optional[float]) -> GtpResponse:
        while True:
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                raise GtpTimeout(command)
            try:
                item = self._replies.get(timeout=remaining)
            except queue.Empty:
                continue
            if item is _EOF:
                self._replies.put(_EOF)  # later calls see it too
                raise self._died(f"the engine closed its output while answering {command!r}")
            if self._is_stale(item):
                continue
            if cid is not None and item.id is not None and item.id != cid:
                raise GtpProtocolError(f"reply id {item.id} does not match command id {cid} ({command!r})")
            return item

    def _is_stale(self, reply: GtpResponse) -> bool:
        """Whether `reply` answers a command that timed out earlier; if so, forget that command."""
        if not self._stale:
            return False
        if reply.id is not None and reply.id in self._stale:
            self._stale.remove(reply.id)
            return True
        if reply.id is None:  # an engine that drops ids answers in order: this is the oldest
            self._stale.popleft()
            return True
        return False

    def command(self, command: str, *args: object, timeout: Optional[float] = None) -> str:
        """Send `command` with `args` (joined by spaces) and return the success text. Raises
        GtpError on a '?' reply, and what `send` raises."""
        line = " ".join([command, *(str(a) for a in args)])
        reply = self.send(line, timeout=timeout)
        if not reply.ok:
            raise GtpError(line, reply.text)
        return reply.text

    # --- shutdown ----------------------------------------------------------------------------

    def close(self) -> Optional[int]:
        """Ask the engine to quit; terminate, then kill it if it lingers. Idempotent. Returns the
        exit status (negative for a signal, as subprocess reports it)."""
        if self._closed:
            return self.process.returncode
        if self.alive:
            try:
                self.send("quit", timeout=self.quit_grace)
            except GtpClientError:
                pass
        self._closed = True
        try:
            if self.process.stdin is not None:
                self.process.stdin.close()
        except OSError:
            pass
        try:
            self.process.wait(timeout=self.quit_grace)
        except subprocess.TimeoutExpired:
            self.process.terminate()
            try:
                self.process.wait(timeout=self.quit_grace)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._dead = True
        self._reader.join(timeout=1.0)
        self._drainer.join(timeout=1.0)
        for stream in (self.process.stdout, self.process.stderr):
            try:
                if stream is not None:
                    stream.close()
            except OSError:
                pass
        if self._stderr_file is not None:
            self._stderr_file.close()
            self._stderr_file = None
        return self.process.returncode

    def __enter__(self) -> "GtpClient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # --- standard commands -------------------------------------------------------------------

    def name(self) -> str:
        return self.command("name")

    def version(self) -> str:
        return self.command("version")

    def protocol_version(self) -> str:
        return self.command("protocol_version")

    def list_commands(self) -> list[str]:
        """The engine's commands (asked once, then cached)."""
        if self._known_commands is None:
            self._known_commands = self.command("list_commands").split()
        return list(self._known_commands)

    def known_command(self, name: str) -> bool:
        return self.command("known_command", name).strip().lower() == "true"

    def boardsize(self, size: int) -> None:
        self.command("boardsize", int(size))

    def clear_board(self) -> None:
        self.command("clear_board")

    def komi(self, komi: float) -> None:
        self.command("komi", float(komi))

    def play(self, colour: str, vertex: str) -> None:
        """Play a move (a vertex or "pass"); GtpError when the engine calls it illegal."""
        self.command("play", normalise_colour(colour), vertex)

    def genmove(self, colour: str, timeout: Optional[float] = None) -> str:
        """The engine's move for `colour`, played on its board: a vertex, "pass" or "resign"."""
        return normalise_vertex(self.command("genmove", normalise_colour(colour), timeout=timeout))

    def genmove_cleanup(self, colour: str, timeout: Optional[float] = None) -> str:
        """KGS's `kgs-genmove_cleanup`: a move that captures dead stones rather than passing."""
        return normalise_vertex(self.command("kgs-genmove_cleanup", normalise_colour(colour), timeout=timeout))

    def undo(self) -> None:
        self.command("undo")

    def fixed_handicap(self, stones: int) -> list[str]:
        return _split_vertices(self.command("fixed_handicap", int(stones)))

    def place_free_handicap(self, stones: int) -> list[str]:
        return _split_vertices(self.command("place_free_handicap", int(stones)))

    def set_free_handicap(self, vertices: Sequence[str]) -> None:
        self.command("set_free_handicap", *vertices)

    def final_score(self, timeout: Optional[float] = None) -> str:
        """The engine's result string, e.g. "B+3.5", "W+12", "0"."""
        return self.command("final_score", timeout=timeout)

    def final_status_list(self, status: str, timeout: Optional[float] = None) -> list[str]:
        """Vertices with the given status ("alive", "dead", "seki"); lines are flattened."""
        return _split_vertices(self.command("final_status_list", status, timeout=timeout))

    def showboard(self) -> str:
        return self.command("showboard")

    # --- common extensions (GNU Go and others) ------------------------------------------------

    def list_stones(self, colour: str) -> list[str]:
        return _split_vertices(self.command("list_stones", normalise_colour(colour)))

    def is_legal(self, colour: str, vertex: str) -> bool:
        """The engine's verdict on a move, by its own rule settings."""
        answer = self.command("is_legal", normalise_colour(colour), vertex).strip()
        if answer not in ("0", "1"):
            raise GtpProtocolError(f"is_legal answered {answer!r}, expected 0 or 1")
        return answer == "1"

    def all_legal(self, colour: str) -> list[str]:
        return _split_vertices(self.command("all_legal", normalise_colour(colour)))

    def set_random_seed(self, seed: int) -> None:
        self.command("set_random_seed", int(seed))
