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
    assert first.changed and first.registered is not None
    assert first.registered["jobs"] == ["nightly"] and first.registered["cron_file"] == str(path)
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
            return 0, current + "RC=0\n", ""
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
    assert res.failed and 'Failed to find required executable "crontab"' in res.msg


def test_an_environment_variable_is_declared_quoted_as_ansible_writes_it(
    run_local: RunModule, tmp_path: Path
) -> None:
    path = tmp_path / "jobs"
    path.write_text("MAILTO=old@example.com\n#Ansible: a\n@daily root a\n")
    args = {"name": "MAILTO", "env": True, "job": "ops@example.com", "user": "root"}
    assert run_local("cron", {**args, "cron_file": str(path)}).changed
    assert path.read_text() == 'MAILTO="ops@example.com"\n#Ansible: a\n@daily root a\n'
    assert not run_local("cron", {**args, "cron_file": str(path)}).changed


def test_ansibles_refusals_fail_the_task_with_its_messages(tmp_path: Path) -> None:
    conn = FakeConnection("h1", lambda call: (0, "RC=1\n", ""))
    cases = [
        ({"name": "x"}, "You must specify 'job' to install a new cron job or variable"),
        (
            {"name": "x", "job": "y", "cron_file": "f"},
            "To use cron_file=... parameter you must specify user=... as well",
        ),
        (
            {"name": "x", "job": "y", "special_time": "daily", "hour": "3"},
            "You cannot combine special_time with any of the time or day/date parameters.",
        ),
        (
            {"name": "x", "job": "y", "insertafter": "A"},
            "Insertafter and insertbefore parameters are valid only with env=yes",
        ),
        ({"name": "x", "job": "y", "cron_file": "/etc/crontab", "user": "r"}, "Will not manage"),
    ]
    for args, msg in cases:
        res = run_fake(conn, **args)
        assert res.failed and res.msg.startswith(msg), (args, res.msg)
    mod = lookup("cron")
    assert mod is not None
    assert not prepare(mod, {"name": "x", "cron_file": "f", "state": "absent"})[1]


def test_crontab_header_lines_are_left_out_and_jobs_envs_name_everything() -> None:
    from fleetkit.modules.cron import CronTab, crontab_text

    listed = (
        "# DO NOT EDIT THIS FILE - edit the master and reinstall.\n"
        "# (/tmp/crontab.x installed on Mon Jan  1 00:00:00 2024)\n"
        "# (Cron version V5.0 -- $Id: x $)\nA=1\n#Ansible: j\n* * * * * j\n"
    )
    existing, lines = crontab_text(listed)
    assert existing == "A=1\n#Ansible: j\n* * * * * j\n"
    tab = CronTab(lines, None, None)
    assert (tab.jobnames(), tab.envnames()) == (["j"], ["A"])


def test_an_untagged_identical_line_is_adopted_and_variables_placed() -> None:
    from fleetkit.modules.cron import CronError, CronTab

    tab = CronTab(["SHELL=/bin/sh", "0 1 * * * /bin/adopt"], None, None)
    found = tab.find_job("adopt", "0 1 * * * /bin/adopt")
    assert len(found) == 3 and tab.lines[1] == "#Ansible: adopt"
    tab.add_env('LANG="C"', None, "SHELL")
    tab.add_env('X="1"', "LANG", None)
    assert tab.lines[:3] == ['LANG="C"', 'X="1"', "SHELL=/bin/sh"]
    with pytest.raises(CronError, match=r"Variable named 'NOPE' not found\."):
        tab.add_env('Y="1"', "NOPE", None)
    cron_file = CronTab([], "backup", "/etc/cron.d/b")
    assert cron_file.job_line("@weekly", "x\n", True) == "#@weekly backup x"


def test_a_cron_file_emptied_of_jobs_is_removed_with_ansibles_keys(
    run_local: RunModule, tmp_path: Path
) -> None:
    path = tmp_path / "single"
    args = {"name": "only", "job": "/bin/only", "user": "root", "cron_file": str(path)}
    run_local("cron", args)
    res = run_local("cron", {"name": "only", "state": "absent", "cron_file": str(path)})
    assert res.changed and not path.exists() and res.registered is not None
    assert res.registered["state"] == "absent" and "jobs" not in res.registered
