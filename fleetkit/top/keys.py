"""Key presses without Enter: the terminal in cbreak mode while `top` runs, restored after.

cbreak keeps signals on, so Ctrl-C still interrupts; when stdin is not a
terminal nothing is read and read() only waits.
"""

from __future__ import annotations

import os
import select
import time
from types import TracebackType
from typing import Any, TextIO


class KeyReader:
    """Reads pending key presses from a tty put in cbreak mode for the `with` block."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._fd: int | None = None
        self._saved: list[Any] | None = None

    @property
    def active(self) -> bool:
        """True when keys are read (stdin is a terminal)."""
        return self._fd is not None

    def __enter__(self) -> KeyReader:
        try:
            interactive = self._stream.isatty()
        except (AttributeError, ValueError):
            interactive = False
        if interactive:
            import termios
            import tty

            self._fd = self._stream.fileno()
            self._saved = termios.tcgetattr(self._fd)
            tty.setcbreak(self._fd)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        err: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._fd is not None and self._saved is not None:
            import termios

            termios.tcsetattr(self._fd, termios.TCSADRAIN, self._saved)
        self._fd = self._saved = None

    def read(self, timeout: float) -> str:
        """Keys pressed within timeout seconds ("" if none, or when not a terminal)."""
        if self._fd is None:
            time.sleep(timeout)
            return ""
        ready, _, _ = select.select([self._fd], [], [], timeout)
        if not ready:
            return ""
        return os.read(self._fd, 64).decode(errors="ignore")
