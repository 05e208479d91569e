"""become to the connection's own user is skipped, as ansible-core skips it.

ansible-core 2.19 (plugins/action/__init__.py, _low_level_execute_command) wraps a
command in the become plugin only when become_allow_same_user is set or the become
user differs from the remote user (an unset remote user counts as different).
"""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Any

import pytest
from tests.unit.playbook.helpers import Fleet, inventory, run

from fleetkit.config.defaults import ConfigDefaults

pytestmark = pytest.mark.unit

PLAY = """
- hosts: web1
  become: true
  tasks:
    - name: as root
      shell: id
    - name: as app
      shell: id
      become_user: app
"""


def becomes(tmp: Path, host_vars: dict[str, Any], **request: Any) -> list[bool]:
    """Per task: whether the command ran through sudo (the become flag or a sudo wrap)."""
    fleet = Fleet()
    inv = inventory(tmp, ("web1",), host_vars={"web1": host_vars})
    out = run(tmp, PLAY, fleet=fleet, inv=inv, **request)
    assert out.result.exit_code() == 0
    return [c.become or "sudo -n" in c.command for c in fleet.conns["web1"].calls]


@pytest.mark.parametrize(
    ("host_vars", "expected"),
    [
        ({}, [True, True]),  # no remote user set: Ansible becomes
        ({"ansible_user": "fleet"}, [True, True]),
        ({"ansible_user": "root"}, [False, True]),  # root to root: no sudo
        ({"ansible_user": "app"}, [True, False]),  # app to app: no sudo
        ({"ansible_user": "app", "ansible_become_user": "app"}, [False, False]),
    ],
)
def test_become_to_the_remote_user_itself_runs_without_sudo(
    tmp_path: Path, host_vars: dict[str, Any], expected: list[bool]
) -> None:
    assert becomes(tmp_path, host_vars) == expected


def test_become_allow_same_user_keeps_sudo(tmp_path: Path) -> None:
    defaults = ConfigDefaults(become_allow_same_user=True)
    assert becomes(tmp_path, {"ansible_user": "root"}, defaults=defaults) == [True, True]


def test_the_local_connections_user_is_whoever_runs_fleetkit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Ansible's local connection has no remote_user option: its user is getpass's
    monkeypatch.setattr(getpass, "getuser", lambda: "app")
    local = {"ansible_connection": "local", "ansible_user": "someone"}
    assert becomes(tmp_path, local) == [True, False]


def test_a_configured_remote_user_counts(tmp_path: Path) -> None:
    defaults = ConfigDefaults(remote_user="root")
    assert becomes(tmp_path, {}, defaults=defaults) == [False, True]
