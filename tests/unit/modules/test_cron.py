"""cron: Ansible-tagged jobs in cron.d files and user crontabs, idempotent, check aware."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from tests.unit.modules.helpers import RunModule, make_ctx

from fleetkit.modules.args import prepare
from fleetkit.modules.registry import lookup
from fleetkit.testing.fake_connection import FakeCall, FakeConnection

pytestmark = pytest.mark.unit


def test_cron_file_job_added_once(run_local: RunModule, tmp_path: Path) -> None:
    path = tmp_path / "backup"
    args = {
        "name": "nightly",
        "job": "/usr/local/bin/backup",
        "minute": "5",
        "hour": "2",
        "user": "fleet",
        "cron_file": str(path),
    }
    first = run_local("cron", args)
    assert first.changed and first.data["jobs"] == ["nightly"]
    assert path.read_text() == "#Ansible: nightly\n5 2 * * * fleet /usr/local/bin/backup\n"
    assert not run_local("cron", args).changed


def test_changed_schedule_updates_the_job_in_place(run_local: RunModule, tmp_path: Path) -> None:
    path = tmp_path / "jobs"
    path.write_text("SHELL=/bin/sh\n#Ansible: a\n* * * * * root old\n#Ansible: b\n@daily root b\n")
    res = run_local(
        "cron",
        {
            "name": "a",
            "job": "new",
            "special_time": "hourly",
            "cron_file": str(path),
            "user": "root",
        },
        diff=True,
    )
    assert res.changed and "+@hourly root new" in res.diff
    assert path.read_text() == (
        "SHELL=/bin/sh\n#Ansible: a\n@hourly root new\n#Ansible: b\n@daily root b\n"
    )


def test_absent_removes_the_job_and_an_emptied_file(run_local: RunModule, tmp_path: Path) -> None:
    path = tmp_path / "one"
    path.write_text("#Ansible: a\n* * * * * root x\n")
    res = run_local("cron", {"name": "a", "state": "absent", "cron_file": str(path)})
    assert res.changed and not path.exists()
    assert not run_local("cron", {"name": "a", "state": "absent", "cron_file": str(path)}).changed


def test_disabled_job_is_commented(run_local: RunModule, tmp_path: Path) -> None:
    path = tmp_path / "off"
    args = {"name": "a", "job": "x", "disabled": True, "cron_file": str(path), "user": "root"}
    run_local("cron", args)
    assert path.read_text() == "#Ansible: a\n#* * * * * root x\n"


def crontab_host(current: str) -> FakeConnection:
    def handle(call: FakeCall) -> tuple[int, str, str]:
        if "crontab -u fleet -l" in call.command:
            return 0, current, ""
        return 0, "", ""

    return FakeConnection("h1", handle)


def run_fake(conn: FakeConnection, check: bool = False, **args: Any) -> Any:
    mod = lookup("cron")
    assert mod is not None
    return mod.run(make_ctx("cron", args, conn, check=check))


def test_user_crontab_is_written_through_crontab() -> None:
    conn = crontab_host("MAILTO=\n")
    res = run_fake(conn, name="ping", job="ping -c1 x", user="fleet")
    assert res.changed
    assert conn.commands[-1] == "crontab -u fleet -"
    assert conn.calls[-1].stdin == b"MAILTO=\n#Ansible: ping\n* * * * * ping -c1 x\n"


def test_user_crontab_unchanged_and_check_mode_write_nothing() -> None:
    conn = crontab_host("#Ansible: ping\n* * * * * ping -c1 x\n")
    assert not run_fake(conn, name="ping", job="ping -c1 x", user="fleet").changed
    res = run_fake(conn, check=True, name="ping", job="other", user="fleet")
    assert res.changed and all(c != "crontab -u fleet -" for c in conn.commands)


def test_missing_crontab_command_is_a_clear_failure() -> None:
    conn = FakeConnection("h1", lambda call: (127, "", "no crontab command"))
    res = run_fake(conn, name="x", job="y")
    assert res.failed and "cron_file" in res.msg


def test_an_environment_variable_is_declared_quoted_as_ansible_writes_it(
    run_local: RunModule, tmp_path: Path
) -> None:
    path = tmp_path / "jobs"
    path.write_text("MAILTO=old@example.com\n#Ansible: a\n@daily root a\n")
    args = {"name": "MAILTO", "env": True, "job": "ops@example.com", "user": "root"}
    assert run_local("cron", {**args, "cron_file": str(path)}).changed
    assert path.read_text() == 'MAILTO="ops@example.com"\n#Ansible: a\n@daily root a\n'
    assert not run_local("cron", {**args, "cron_file": str(path)}).changed


def test_present_needs_a_job_and_special_time_conflicts() -> None:
    mod = lookup("cron")
    assert mod is not None
    assert prepare(mod, {"name": "x"})[1] == ["module cron: state=present needs job"]
    errors = prepare(mod, {"name": "x", "job": "y", "cron_file": "f"})[1]
    assert errors == ["module cron: cron_file needs user (the user the job runs as)"]
    assert not prepare(mod, {"name": "x", "cron_file": "f", "state": "absent"})[1]
    errors = prepare(mod, {"name": "x", "job": "y", "special_time": "daily", "hour": "3"})[1]
    assert errors and "conflict" in errors[0]
