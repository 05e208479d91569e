"""The `fleetkit health --checks FILE` file: thresholds, required containers and
services, and extra shell-command checks. Every mistake names its file:line.

    thresholds:
      load_per_cpu: 2.0                 # load1 / CPUs must stay below
      memory_available_percent: 10      # MemAvailable / MemTotal must stay above
      filesystem_used_percent: 90       # every real filesystem must stay below
    ignore_mountpoints: [/boot/efi, "/snap/*"]
    containers:                         # must exist and run (and not be unhealthy)
      - name: "web*"                    # a glob over container names
        hosts: workers                  # a host pattern (default: all)
    services: [web]                     # swarm services that must exist; every
                                        # service must run all its replicas
    commands:
      - name: ntp
        command: timedatectl show -p NTPSynchronized --value
        hosts: all
        rc: 0                           # expected exit code (default 0)
        stdout: "^yes$"                 # optional regex the output must match
        become: false
        timeout: 10
    testinfra: [tests/test_web.py]      # testinfra files (relative to this file):
                                        # each test is a check `test:<node id>`

A `.py` file given as the checks file is a testinfra file (default thresholds).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fleetkit.errors import MonitoringError, Position
from fleetkit.yamlpos import load_yaml, position_of

TOP_KEYS = ("thresholds", "ignore_mountpoints", "containers", "services", "commands", "testinfra")
THRESHOLDS = ("load_per_cpu", "memory_available_percent", "filesystem_used_percent")
_CHECK_NAME = re.compile(r"^[A-Za-z0-9_.:/@-]+$")


@dataclass(frozen=True)
class Thresholds:
    """Built-in checks' limits."""

    load_per_cpu: float = 2.0
    memory_available_percent: float = 10.0
    filesystem_used_percent: float = 90.0


@dataclass(frozen=True)
class ContainerRule:
    """Containers matching `name` (a glob) must run on the hosts matching `hosts`."""

    name: str
    hosts: str = "all"
    position: Position | None = None


@dataclass(frozen=True)
class CommandCheck:
    """A shell command whose exit code (and optionally output) says ok."""

    name: str
    command: str
    hosts: str = "all"
    rc: int = 0
    stdout: str | None = None
    become: bool = False
    timeout: float = 10.0
    position: Position | None = None


@dataclass(frozen=True)
class HealthConfig:
    """Everything the checks file can say; the defaults apply without a file."""

    thresholds: Thresholds = Thresholds()
    ignore_mountpoints: tuple[str, ...] = ()
    containers: tuple[ContainerRule, ...] = ()
    services: tuple[str, ...] = ()
    commands: tuple[CommandCheck, ...] = ()
    testinfra: tuple[Path, ...] = ()
    """testinfra test files whose tests are checks (run by fleetkit verify's runner)."""


def _err(
    message: str, where: Position | None, path: Path, hint: str | None = None
) -> MonitoringError:
    return MonitoringError(message, position=where or Position(path), hint=hint)


def _unknown(data: Mapping[Any, Any], known: tuple[str, ...], what: str, path: Path) -> None:
    for key in data:
        if key not in known:
            raise _err(
                f"unknown key {key!r} in {what}",
                position_of(data, key),
                path,
                hint=f"known keys: {', '.join(known)}",
            )


def _number(data: Mapping[Any, Any], key: str, path: Path, *, minimum: float = 0.0) -> float:
    value = data[key]
    if isinstance(value, bool) or not isinstance(value, int | float) or value < minimum:
        raise _err(
            f"{key} must be a number >= {minimum:g}, got {value!r}", position_of(data, key), path
        )
    return float(value)


def _strings(data: Mapping[Any, Any], key: str, path: Path) -> tuple[str, ...]:
    value = data.get(key) or []
    if isinstance(value, str) or not isinstance(value, list):
        raise _err(f"{key} must be a list of strings", position_of(data, key), path)
    return tuple(str(v) for v in value)


def _list_of_maps(data: Mapping[Any, Any], key: str, path: Path) -> list[Mapping[Any, Any]]:
    value = data.get(key) or []
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise _err(f"{key} must be a list of mappings", position_of(data, key), path)
    return value


def _thresholds(data: Mapping[Any, Any], path: Path) -> Thresholds:
    raw = data.get("thresholds") or {}
    if not isinstance(raw, dict):
        raise _err("thresholds must be a mapping", position_of(data, "thresholds"), path)
    _unknown(raw, THRESHOLDS, "thresholds", path)
    values = {k: _number(raw, k, path) for k in THRESHOLDS if k in raw}
    for key in ("memory_available_percent", "filesystem_used_percent"):
        if values.get(key, 0) > 100:
            raise _err(f"{key} is a percentage (0-100)", position_of(raw, key), path)
    return Thresholds(**values)


def _container(item: Mapping[Any, Any], path: Path) -> ContainerRule:
    _unknown(item, ("name", "hosts"), "a container rule", path)
    if not item.get("name"):
        raise _err("a container rule needs a name (a glob)", position_of(item), path)
    return ContainerRule(str(item["name"]), str(item.get("hosts") or "all"), position_of(item))


def _command(item: Mapping[Any, Any], path: Path) -> CommandCheck:
    known = ("name", "command", "hosts", "rc", "stdout", "become", "timeout")
    _unknown(item, known, "a command check", path)
    for key in ("name", "command"):
        if not item.get(key) or not isinstance(item[key], str):
            raise _err(f"a command check needs {key} (a string)", position_of(item), path)
    name = str(item["name"])
    if not _CHECK_NAME.match(name):
        raise _err(
            f"check name {name!r} may hold letters, digits and _.:/@- only",
            position_of(item, "name"),
            path,
        )
    stdout = item.get("stdout")
    if stdout is not None:
        try:
            re.compile(str(stdout))
        except re.error as err:
            raise _err(
                f"stdout is not a valid regex: {err}", position_of(item, "stdout"), path
            ) from None
    rc = item.get("rc", 0)
    if isinstance(rc, bool) or not isinstance(rc, int):
        raise _err(f"rc must be an integer, got {rc!r}", position_of(item, "rc"), path)
    become = item.get("become", False)
    if not isinstance(become, bool):
        raise _err(
            f"become must be true or false, got {become!r}", position_of(item, "become"), path
        )
    return CommandCheck(
        name=name,
        command=str(item["command"]),
        hosts=str(item.get("hosts") or "all"),
        rc=rc,
        stdout=None if stdout is None else str(stdout),
        become=become,
        timeout=_number(item, "timeout", path, minimum=0.1) if "timeout" in item else 10.0,
        position=position_of(item),
    )


def _testinfra(data: Mapping[Any, Any], path: Path) -> tuple[Path, ...]:
    files = tuple(path.parent / f for f in _strings(data, "testinfra", path))
    for f in files:
        if not f.is_file() or f.suffix != ".py":
            raise _err(
                f"testinfra file {f} does not exist or is not a .py file",
                position_of(data, "testinfra"),
                path,
            )
    return files


def load_checks(path: Path) -> HealthConfig:
    """Read and validate a checks file (YAML), or take a testinfra file (.py) as one."""
    if path.suffix == ".py":
        return HealthConfig(testinfra=(path,))
    data = load_yaml(path, MonitoringError)
    if data is None:
        return HealthConfig()
    if not isinstance(data, dict):
        raise _err("a checks file is a mapping (thresholds, containers, commands ...)", None, path)
    _unknown(data, TOP_KEYS, "the checks file", path)
    commands = tuple(_command(c, path) for c in _list_of_maps(data, "commands", path))
    seen: dict[str, CommandCheck] = {}
    for c in commands:
        if c.name in seen:
            raise _err(f"two command checks are named {c.name!r}", c.position, path)
        seen[c.name] = c
    return HealthConfig(
        thresholds=_thresholds(data, path),
        ignore_mountpoints=_strings(data, "ignore_mountpoints", path),
        containers=tuple(_container(c, path) for c in _list_of_maps(data, "containers", path)),
        services=_strings(data, "services", path),
        commands=commands,
        testinfra=_testinfra(data, path),
    )
