"""Human output: one line per host per task as results arrive, then a recap.

Lines are prefixed with the host so they can be grepped; colour only on a
terminal (rich decides). Output of exec commands follows its host's line,
each line prefixed with the host too.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import IO

from rich.console import Console
from rich.markup import escape

from fleetkit.results import RunResult, Status, StepResult

STYLE = {
    Status.OK: "green",
    Status.CHANGED: "yellow",
    Status.FAILED: "bold red",
    Status.UNREACHABLE: "bold magenta",
    Status.SKIPPED: "cyan",
}


def _duration(seconds: float) -> str:
    return f"{seconds * 1000:.0f}ms" if seconds < 1 else f"{seconds:.1f}s"


class ConsoleReporter:
    """Live, host-prefixed lines and a final recap on a rich Console."""

    def __init__(
        self,
        stream: IO[str] | None = None,
        *,
        show_output: bool = True,
        verbose: bool = False,
        show_diff: bool = False,
    ) -> None:
        self.console = Console(file=stream, highlight=False, soft_wrap=True)
        self.show_output = show_output
        self.verbose = verbose
        self.show_diff = show_diff
        self._width = 0

    def play_start(self, play: str, hosts: Sequence[str]) -> None:
        self._width = max((len(h) for h in hosts), default=0)
        self.console.print(f"[bold]PLAY[/] {escape(play)} [dim]({len(hosts)} hosts)[/]")

    def task_start(self, play: str, task: str, hosts: Sequence[str]) -> None:
        self._width = max(self._width, *(len(h) for h in hosts)) if hosts else self._width
        if play:
            self.console.print(f"[bold]TASK[/] {escape(task)}")

    def host_result(self, result: StepResult) -> None:
        host = escape(result.host.ljust(self._width))
        style = STYLE[result.status]
        parts = [f"{host}  [{style}]{result.status.value}[/]"]
        if result.rc is not None and (result.rc != 0 or self.verbose):
            parts.append(f"rc={result.rc}")
        parts.append(f"[dim]{_duration(result.duration_s)}[/]")
        if result.msg:
            parts.append(escape(result.msg))
        self.console.print("  ".join(parts))
        if self.show_diff and result.diff:
            for line in result.diff.splitlines():
                color = (
                    "green" if line.startswith("+") else "red" if line.startswith("-") else "dim"
                )
                self.console.print(f"{host} [{color}]{escape(line)}[/]")
        if not self.show_output:
            return
        for line in result.stdout.splitlines():
            self.console.print(f"{host} [dim]|[/] {escape(line)}")
        if result.stderr and (result.status is Status.FAILED or self.verbose or not result.stdout):
            for line in result.stderr.splitlines():
                self.console.print(f"{host} [red]![/] {escape(line)}")

    def warning(self, message: str) -> None:
        self.console.print(f"[bold yellow]warning:[/] {escape(message)}")

    def summary(self, run: RunResult) -> None:
        stats = run.stats()
        width = max((len(h) for h in stats), default=4)
        self.console.print(f"[bold]RECAP[/] [dim]({_duration(run.duration_s)})[/]")
        for host, s in stats.items():
            bad = s.failed or s.unreachable
            name = f"[bold red]{escape(host.ljust(width))}[/]" if bad else escape(host.ljust(width))
            counts = "  ".join(
                f"[{STYLE[Status(k)]}]{k}={v}[/]" if v else f"[dim]{k}={v}[/]"
                for k, v in s.as_dict().items()
            )
            self.console.print(f"{name}  {counts}")
        if run.interrupted:
            self.console.print("[bold red]interrupted[/]: hosts not listed did not finish")
        if run.retry_file:
            self.console.print(f"retry the failed hosts with: [bold]--limit @{run.retry_file}[/]")
