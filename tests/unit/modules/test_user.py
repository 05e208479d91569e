"""user: ansible-core 2.19's user module on Linux: the useradd/usermod/userdel/chage command
Ansible would build, its registered keys and messages (expectations from ansible-playbook
in a mount namespace, tests/compat/test_accounts_differential.py), on a fake host whose
accounts the commands change."""

from __future__ import annotations

import shlex
from typing import Any

import pytest
from tests.unit.modules.helpers import make_ctx

from fleetkit.modules.base import ModuleResult
from fleetkit.modules.registry import lookup
from fleetkit.modules.user import NOT_HASHED, parse_probe, password_warning, probe_script
from fleetkit.testing.fake_connection import FakeCall, FakeConnection

pytestmark = pytest.mark.unit

HASH = "$6$saltsalt$" + "a" * 86


class Host:
    """A fake host: passwd/shadow/group tables the account commands change."""

    def __init__(self) -> None:
        self.passwd: dict[str, list[str]] = {}
        self.shadow: dict[str, list[str]] = {}
        self.groups: dict[str, list[str]] = {"wheel": ["wheel", "x", "10", ""]}
        self.conn = FakeConnection("h1", self.handle)

    def user(self, name: str, uid: int = 42000, home: str = "", groups: str = "") -> None:
        self.passwd[name] = [name, "x", str(uid), str(uid), "", home or f"/home/{name}", "/bin/sh"]
        self.shadow[name] = [name, "!", "19000", "0", "99999", "7", "", "", ""]
        self.groups.setdefault(name, [name, "x", str(uid), ""])
        for g in filter(None, groups.split(",")):
            members = self.groups[g][3].split(",") if self.groups[g][3] else []
            self.groups[g][3] = ",".join([*members, name])

    def handle(self, call: FakeCall) -> tuple[int, str, str]:
        command = call.command
        if command.startswith('echo "__fk_P'):
            name = shlex.split(command.split(";")[0].split("getent passwd ")[1].rstrip('")'))[0]
            out = f"__fk_P={':'.join(self.passwd.get(name, []))}\n"
            out += f"__fk_S={':'.join(self.shadow.get(name, []))}\n"
            out += "".join(f"__fk_G={':'.join(g)}\n" for g in self.groups.values())
            return 0, out + "__fk_append=yes\n__fk_host=h1\n", ""
        if command.startswith(("useradd", "usermod")):
            words = shlex.split(command.split(" && ")[0])
            name = words[-1]
            if words[0] == "useradd":
                self.user(name, uid=42000 + len(self.passwd))
            if "-s" in words:
                self.passwd[name][6] = words[words.index("-s") + 1]
            if "-L" in words:
                self.shadow[name][1] = "!" + self.shadow[name][1].lstrip("!")
        if "chpasswd -e" in command and call.stdin:
            name, _, hashed = call.stdin.decode().strip().partition(":")
            self.shadow[name][1] = hashed
        if command.startswith("userdel"):
            self.passwd.pop(shlex.split(command)[-1], None)
        if command.startswith("[ -e"):
            return 0, "", ""
        return 0, "", ""

    def commands(self, prefix: str) -> list[str]:
        return [c for c in self.conn.commands if c.startswith(prefix)]


def run(host: Host, check: bool = False, **args: Any) -> ModuleResult:
    mod = lookup("ansible.builtin.user")
    assert mod is not None
    return mod.run(make_ctx("user", args, host.conn, check=check))


def test_a_new_user_with_groups_shell_and_a_password() -> None:
    host = Host()
    res = run(host, name="app", groups=["wheel"], shell="/bin/bash", password=HASH)
    (useradd,) = host.commands("useradd")
    assert useradd.startswith("useradd -G wheel -s /bin/bash -m app && chpasswd -e")
    assert HASH not in " ".join(host.conn.commands)
    assert host.shadow["app"][1] == HASH
    assert res.registered is not None
    assert {k: res.registered[k] for k in ("changed", "system", "create_home", "groups")} == {
        "changed": True,
        "system": False,
        "create_home": True,
        "groups": "wheel",
    }
    assert res.registered["password"] == "NOT_LOGGING_PASSWORD"
    assert res.registered["shell"] == "/bin/bash" and res.registered["uid"] == 42000


def test_an_existing_user_as_wanted_runs_no_usermod() -> None:
    host = Host()
    host.user("app", groups="wheel")
    res = run(host, name="app", groups="wheel", shell="/bin/sh")
    assert not res.changed and not host.commands("usermod")
    assert res.registered is not None and res.registered["append"] is False


def test_groups_append_and_the_empty_list() -> None:
    host = Host()
    host.groups["ops"] = ["ops", "x", "20", ""]
    host.user("app", groups="wheel")
    run(host, name="app", groups=["ops"], append=True)
    assert host.commands("usermod")[-1] == "usermod -a -G ops app"
    run(host, name="app", groups=["ops"])
    assert host.commands("usermod")[-1] == "usermod -G ops app"
    run(host, name="app", groups=[])
    assert host.commands("usermod")[-1] == "usermod -G '' app"


def test_update_password_on_create_and_password_lock() -> None:
    host = Host()
    host.user("app")
    assert not run(host, name="app", password=HASH, update_password="on_create").changed
    run(host, name="app", password=HASH)
    assert host.shadow["app"][1] == HASH
    assert not run(host, name="app", password=HASH).changed
    run(host, name="app", password_lock=True)
    assert host.commands("usermod")[-1] == "usermod -L app"


def test_check_mode_creates_nothing_and_registers_only_changed() -> None:
    host = Host()
    res = run(host, check=True, name="app")
    assert res.registered == {"changed": True, "failed": False} and not host.commands("useradd")
    host.user("app")
    res = run(host, check=True, name="app", shell="/bin/bash")
    assert res.changed and not host.commands("usermod")
    res = run(host, check=True, name="app", state="absent")
    assert res.registered == {"changed": True, "failed": False}


def test_absent_with_remove_and_a_missing_group() -> None:
    host = Host()
    host.user("app")
    res = run(host, name="app", state="absent", remove=True, force=True)
    assert host.commands("userdel") == ["userdel -f -r app"]
    assert res.registered is not None and res.registered["remove"] is True
    res = run(host, name="app", groups=["nope"])
    assert res.failed and res.msg == "Group nope does not exist"


def test_password_warnings_are_ansibles() -> None:
    assert password_warning(HASH) is None
    assert password_warning("$6$salt$short") == NOT_HASHED
    assert password_warning("plaintext") == NOT_HASHED
    assert password_warning("!") is None


def test_the_probe_reads_one_round_trip_of_account_facts() -> None:
    assert probe_script("app", "/srv/app").count("getent") == 3
    account = parse_probe(
        "__fk_P=app:x:42000:42000:A:/home/app:/bin/sh\n__fk_S=app:!h:1:2:3:4::5:\n"
        "__fk_G=wheel:x:10:app,bob\n__fk_append=yes\n__fk_defs=yes\n__fk_D=UMASK 027\n"
    )
    assert account.exists and account.password() == "!h"
    assert account.member_of("app") == ["wheel"] and account.group("10") is not None
    assert account.shadow_int(7) == 5 and account.shadow_int(6) == -1
    assert account.home_mode() == 0o750
