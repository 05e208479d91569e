"""One error tree for fleetkit: every user-facing failure is a FleetkitError.

The CLI maps each class to an exit code (see design: 2 = bad input, nothing run)
and prints its message; users never see a traceback for their own mistakes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Position:
    """A place in a user's file, printed as file:line[:column]."""

    path: Path | str
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        out = str(self.path)
        if self.line is not None:
            out += f":{self.line}"
            if self.column is not None:
                out += f":{self.column}"
        return out


class FleetkitError(Exception):
    """Base of every error fleetkit reports to a user."""

    exit_code = 2

    def __init__(self, message: str, *, position: Position | None = None, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.position = position
        self.hint = hint

    def __str__(self) -> str:
        out = f"{self.position}: {self.message}" if self.position else self.message
        if self.hint:
            out += f"\n  hint: {self.hint}"
        return out


class UsageError(FleetkitError):
    """Bad command-line usage (an option's value, a missing argument)."""


class ConfigError(FleetkitError):
    """An ansible.cfg (or ANSIBLE_* variable) that cannot be read as Ansible reads it."""


class InventoryError(FleetkitError):
    """An inventory file or directory that cannot be loaded as written."""


class PatternError(FleetkitError):
    """A host pattern or --limit that is malformed or matches no host."""


class PlaybookError(FleetkitError):
    """A playbook that is invalid: YAML, unknown keyword or module, bad argument."""


class RequirementsError(FleetkitError):
    """A Galaxy requirements file that cannot be read as ansible-galaxy reads it."""


class TemplateError(FleetkitError):
    """A Jinja2 template that fails to parse or render (undefined variable...)."""


class ModuleError(FleetkitError):
    """A module's arguments are invalid (raised before any host is touched)."""


class LabError(FleetkitError):
    """The local lab cannot be brought up or down (not root, missing package...)."""

    exit_code = 1


class ConnectionError(FleetkitError):
    """A host cannot be reached or authenticated. Reported per host as unreachable."""

    exit_code = 3


class HostKeyError(ConnectionError):
    """A host key is unknown or changed: refused unless policy says accept-new."""


class StreamRefused(ConnectionError):
    """The host is up but the socket or port a stream was opened to refused it
    (nothing listening, no such socket, forwarding disabled): the service, not the host."""


class CommandTimeout(FleetkitError):
    """A remote command ran past its timeout (reported per host as failed)."""

    exit_code = 1


class TaskError(FleetkitError):
    """A task failed on a host (reported per host; raised only inside a module)."""

    exit_code = 1


class OrchestratorError(FleetkitError):
    """Swarm/Kubernetes refused or failed an operation."""

    exit_code = 1


class MonitoringError(FleetkitError):
    """The exporter or health checks cannot start (bad address, bad checks file)."""


class DashboardError(FleetkitError):
    """A dashboard file that cannot be read as a Grafana dashboard."""


class PrometheusError(FleetkitError):
    """Prometheus refused a query or could not be reached."""

    exit_code = 1


class ClusterError(FleetkitError):
    """The Dask cluster a run was sent to cannot be reached, or went away mid-run."""

    exit_code = 3
