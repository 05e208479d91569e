"""Human output: one line per host per task as results arrive, then a recap.

Lines are prefixed with the host so they can be grepped. On a terminal rich
colours them; elsewhere (a pipe, a log, CI) they are written as plain text with
no markup work at all, which keeps big fleets' output cheap.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import IO

from rich.console import Console
from rich.text import Text

from fleetkit.report.redact import redact, redact_result
from fleetkit.results import RunResult, Status, StepResult

STYLE: dict[str, str] = {
    Status.OK: "green",
    Status.CHANGED: "yellow",
    Status.FAILED: "bold red",
    Status.UNREACHABLE: "bold magenta",
    Status.SKIPPED: "cyan",
    "rescued": "yellow",
    "ignored": "cyan",
}

Segment = tuple[str, str]  # (text, rich style; "" for none)


def _duration(seconds: float) -> str:
    return f"{seconds * 1000:.0f}ms" if seconds < 1 else f"{seconds:.1f}s"


LISTED_HOSTS = 10


def _listing(hosts: tuple[str, ...]) -> str:
    """Host names, the first LISTED_HOSTS of them and how many more."""
    shown = " ".join(hosts[:LISTED_HOSTS])
    more = len(hosts) - LISTED_HOSTS
    return f"{shown} (and {more} more)" if more > 0 else shown


class ConsoleReporter:
    """Live, host-prefixed lines and a final recap."""

    def __init__(
        self,
        stream: IO[str] | None = None,
        *,
        show_output: bool = True,
        verbose: bool = False,
        show_diff: bool = False,
    ) -> None:
        self.console = Console(file=stream, highlight=False, soft_wrap=True)
        self._plain = not self.console.is_terminal
        self.show_output = show_output
        self.verbose = verbose
        self.show_diff = show_diff
        self._width = 0

    def _line(self, *segments: Segment) -> None:
        segments = tuple((redact(text), style) for text, style in segments)
        if self._plain:
            self.console.file.write("".join(text for text, _ in segments) + "\n")
            self.console.file.flush()
        else:
            self.console.print(Text.assemble(*segments))

    def play_start(self, play: str, hosts: Sequence[str]) -> None:
        self._width = max((len(h) for h in hosts), default=0)
        self._line(("PLAY", "bold"), (f" {play} ", ""), (f"({len(hosts)} hosts)", "dim"))

    def task_start(self, play: str, task: str, hosts: Sequence[str]) -> None:
        self._width = max(self._width, *(len(h) for h in hosts)) if hosts else self._width
        if play:
            self._line(("TASK", "bold"), (f" {task}", ""))

    def host_result(self, result: StepResult) -> None:
        result = redact_result(result)  # before splitting: multi-line secrets too
        host = result.host.ljust(self._width)
        segments: list[Segment] = [
            (host, ""),
            ("  ", ""),
            (result.status.value, STYLE[result.status]),
        ]
        if result.rc is not None and (result.rc != 0 or self.verbose):
            segments.append((f"  rc={result.rc}", ""))
        segments.append((f"  {_duration(result.duration_s)}", "dim"))
        if result.msg:
            segments.append((f"  {result.msg}", ""))
        self._line(*segments)
        if self.show_diff and result.diff:
            for line in result.diff.splitlines():
                color = (
                    "green" if line.startswith("+") else "red" if line.startswith("-") else "dim"
                )
                self._line((f"{host} ", ""), (line, color))
        if not self.show_output:
            return
        for line in result.stdout.splitlines():
            self._line((host, ""), (" |", "dim"), (f" {line}", ""))
        if result.stderr and (result.status is Status.FAILED or self.verbose or not result.stdout):
            for line in result.stderr.splitlines():
                self._line((host, ""), (" !", "red"), (f" {line}", ""))

    def warning(self, message: str) -> None:
        self._line(("warning:", "bold yellow"), (f" {message}", ""))

    def summary(self, run: RunResult) -> None:
        stats = run.stats()
        width = max((len(h) for h in stats), default=4)
        self._line(("RECAP", "bold"), (f" ({_duration(run.duration_s)})", "dim"))
        counts = run.counts()
        for host, s in stats.items():
            bad = s.failed or s.unreachable
            segments: list[Segment] = [(host.ljust(width), "bold red" if bad else "")]
            for key, value in counts[host].items():
                style = STYLE.get(key, "") if value else "dim"
                segments.append((f"  {key}={value}", style))
            self._line(*segments)
        if run.interrupted:
            left = run.unfinished
            self._line(
                ("interrupted", "bold red"),
                (f": {len(left)} host{'s' if len(left) != 1 else ''} did not finish", ""),
                (f": {_listing(left)}" if left else "", ""),
            )
        if run.retry_file:
            self._line(
                ("retry the failed hosts with: ", ""), (f"--limit @{run.retry_file}", "bold")
            )
