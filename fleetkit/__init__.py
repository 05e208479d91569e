"""fleetkit: agentless fleet automation and monitoring over SSH.

The public API is small on purpose; everything else is private to the package
and may change. Importing fleetkit imports nothing heavy (no Fabric, Docker or
prometheus_client) until a function that needs it runs.
"""

from fleetkit.errors import FleetkitError
from fleetkit.results import HostStats, RunResult, Status, StepResult

__all__ = ["FleetkitError", "HostStats", "RunResult", "Status", "StepResult"]
__version__ = "0.1.0"
