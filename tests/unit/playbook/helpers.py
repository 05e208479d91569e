"""Helpers for playbook tests: files in tmp_path, a fake fleet, a run with JSON events."""

from __future__ import annotations

import io
import json
import textwrap
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from fleetkit.playbook.session import RunRequest, execute, finish, prepare
from fleetkit.report.jsonl import JsonLinesReporter
from fleetkit.results import RunResult
from fleetkit.testing.fake_connection import FakeConnection, Handler


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    return path


def inventory(
    tmp: Path,
    hosts: Sequence[str] = ("web1", "web2"),
    all_vars: Mapping[str, Any] | None = None,
    host_vars: Mapping[str, Mapping[str, Any]] | None = None,
    groups: Mapping[str, Sequence[str]] | None = None,
) -> Path:
    data: dict[str, Any] = {
        "all": {
            "hosts": {h: dict((host_vars or {}).get(h, {})) for h in hosts},
            "vars": dict(all_vars or {}),
        }
    }
    if groups:
        data["all"]["children"] = {
            g: {"hosts": dict.fromkeys(members)} for g, members in groups.items()
        }
    path = tmp / "inventory" / "hosts.yml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data))
    return path


@dataclass
class Fleet:
    """Fake connections per host, made on demand, remembered for inspection."""

    handler: Handler | None = None
    handlers: dict[str, Handler] = field(default_factory=dict)
    unreachable: set[str] = field(default_factory=set)
    delays: dict[str, float] = field(default_factory=dict)
    conns: dict[str, FakeConnection] = field(default_factory=dict)

    def __call__(self, host: str) -> FakeConnection:
        if host not in self.conns:
            self.conns[host] = FakeConnection(
                host,
                self.handlers.get(host, self.handler),
                unreachable=host in self.unreachable,
                delay=self.delays.get(host, 0.0),
            )
        return self.conns[host]

    def commands(self, host: str) -> list[str]:
        return self.conns[host].commands if host in self.conns else []


@dataclass
class Outcome:
    result: RunResult
    events: list[dict[str, Any]]

    def results(self, task: str | None = None) -> list[dict[str, Any]]:
        return [
            e
            for e in self.events
            if e["event"] == "host_result" and (task is None or e["task"] == task)
        ]

    def status(self, task: str) -> dict[str, str]:
        return {e["host"]: e["status"] for e in self.results(task)}

    def warnings(self) -> list[str]:
        return [e["msg"] for e in self.events if e["event"] == "warning"]


def run(
    tmp: Path,
    playbook: str,
    *,
    fleet: Fleet | None = None,
    hosts: Sequence[str] = ("web1", "web2"),
    inv: Path | None = None,
    sleep: Callable[[float], None] | None = None,
    **request: Any,
) -> Outcome:
    """Prepare and run playbook text on a fake fleet; JSON events captured."""
    book = write(tmp / "site.yml", playbook)
    inv = inv or inventory(tmp, hosts)
    req = RunRequest(playbook=book, inventory=inv, cwd=tmp, **request)
    prepared = prepare(req)
    out = io.StringIO()
    reporter = JsonLinesReporter(out)
    result = finish(
        prepared,
        execute(prepared, reporter, connect=fleet or Fleet(), sleep=sleep or (lambda s: None)),
    )
    reporter.summary(result)
    return Outcome(result, [json.loads(line) for line in out.getvalue().splitlines()])
