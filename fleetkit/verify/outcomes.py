"""One test's outcome on one host, from pytest's setup/call/teardown reports.

Kept free of pytest imports at module level so the controller (which only
reads outcomes a worker sent) does not load pytest.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from fleetkit.results import Status, StepResult

HOST_ID = "@"
"""The pytest id of the host parameter; removed again from the node ids users see."""

MAX_DETAIL = 4000


@dataclass(frozen=True)
class TestOutcome:
    """A test's verdict on a host: task (node id without the host), status, why."""

    __test__ = False  # not a pytest test class

    task: str
    status: Status
    msg: str = ""
    stdout: str = ""
    stderr: str = ""
    duration_s: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "status": self.status.value}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TestOutcome:
        return cls(
            task=str(data["task"]),
            status=Status(data["status"]),
            msg=str(data.get("msg", "")),
            stdout=str(data.get("stdout", "")),
            stderr=str(data.get("stderr", "")),
            duration_s=float(data.get("duration_s", 0.0)),
        )

    def step(self, host: str) -> StepResult:
        return StepResult(
            host=host,
            task=self.task,
            status=self.status,
            msg=self.msg,
            stdout=self.stdout,
            stderr=self.stderr,
            duration_s=self.duration_s,
        )


def task_name(nodeid: str) -> str:
    """`f.py::test_x[@-nginx]` -> `f.py::test_x[nginx]`; `f.py::test_x[@]` -> `f.py::test_x`."""
    head, bracket, params = nodeid.partition("[")
    if not bracket:
        return nodeid
    ids = params[:-1].split("-") if params.endswith("]") else params.split("-")
    if HOST_ID in ids:
        ids.remove(HOST_ID)
    return f"{head}[{'-'.join(ids)}]" if ids else head


@dataclass(frozen=True)
class Phase:
    """What one pytest report (setup, call or teardown) said."""

    when: str
    outcome: str  # passed | failed | skipped
    message: str = ""
    detail: str = ""
    stdout: str = ""
    xfail: bool = False
    duration_s: float = 0.0


def judge(task: str, phases: list[Phase]) -> TestOutcome:
    """ok when every phase passed; failed if any failed (a setup error too); skipped
    when setup or the call was skipped (xfail counts as skipped, with its reason)."""
    duration = sum(p.duration_s for p in phases)
    stdout = "".join(p.stdout for p in phases if p.when == "call" or p.outcome == "failed")
    for p in phases:
        if p.outcome == "failed":
            where = "" if p.when == "call" else f"error in {p.when}: "
            return TestOutcome(
                task,
                Status.FAILED,
                where + (p.message or "failed"),
                stdout,
                p.detail[-MAX_DETAIL:],
                duration,
            )
    for p in phases:
        if p.outcome == "skipped":
            reason = f"xfail: {p.message}" if p.xfail else p.message
            return TestOutcome(task, Status.SKIPPED, reason, stdout, "", duration)
    return TestOutcome(task, Status.OK, "", stdout, "", duration)
