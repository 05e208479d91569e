"""`python -m fleetkit.verify.worker`: one host's verify session (a Job on stdin).

Events go out as JSON lines on what was stdout when the worker started; pytest's
own terminal output goes to /dev/null, its crashes to stderr. The connection is
made from the controller's ConnectionSpec with a ConnectionFactory, as exec does.
"""

from __future__ import annotations

import json
import os
import sys
from typing import IO, Any

from fleetkit.connection.base import Connection
from fleetkit.connection.factory import ConnectionFactory


def _events_stream() -> IO[str]:
    """A private copy of stdout for events; fd 1 itself then points at /dev/null."""
    events = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.close(devnull)
    return events


def main() -> int:
    from fleetkit.verify.job import Job
    from fleetkit.verify.session import run_session

    job = Job.from_json(json.loads(sys.stdin.read()))
    events = _events_stream()

    def emit(event: dict[str, Any]) -> None:
        events.write(json.dumps(event, default=str) + "\n")
        events.flush()

    factory = ConnectionFactory({job.host: job.spec})
    conns: list[Connection] = []

    def connect() -> Connection:
        conn = factory(job.host)
        conns.append(conn)
        conn.open()
        return conn

    try:
        run_session(job.layout, connect, emit, become=job.become, timeout=job.timeout)
    finally:
        for conn in conns:
            conn.close()
        factory.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
