"""pip: requirements read as pip reads them, state from `pip list`, installs only what is
missing, check mode predicts, venvs made once, a --without-pip venv served by the host's pip."""

from __future__ import annotations

import json
import re
import shlex
from typing import Any

import pytest
from tests.unit.modules.helpers import make_ctx

from fleetkit.modules.args import prepare
from fleetkit.modules.base import ModuleResult
from fleetkit.modules.pip import parse_requirement
from fleetkit.modules.registry import lookup
from fleetkit.testing.fake_connection import FakeCall, FakeConnection

pytestmark = pytest.mark.unit


class Python:
    """A host's pythons: which venvs exist (with or without pip) and what each holds."""

    def __init__(self, venvs: dict[str, bool] | None = None, **installed: str) -> None:
        self.venvs = dict(venvs or {})  # path -> has its own pip
        self.envs: dict[str, dict[str, str]] = {"system": dict(installed)}
        self.index = {"tinypkg": ["1.0", "2.0"], "other": ["0.3"]}
        self.files = {"/srv/app/requirements.txt": "tinypkg==1.0 other\n"}

    def conn(self) -> FakeConnection:
        return FakeConnection("h1", self.answer)

    def env_of(self, command: str) -> str:
        m = re.search(r"--python '?([^' ]+)/bin/python", command) or re.match(
            r"'?([^' ]+)/bin/python'? -m pip", command
        )
        return m.group(1) if m else "system"

    def answer(self, call: FakeCall) -> tuple[int, str, str]:
        cmd = call.command
        if m := re.match(r"test -x '?([^' ]+)/bin/python'?$", cmd):
            return (0, "", "") if m.group(1) in self.venvs else (1, "", "")
        if m := re.search(r"-m venv(?: --without-pip)? '?([^' ]+)'?$", cmd):
            self.venvs[m.group(1)] = "--without-pip" not in cmd
            return 0, "", ""
        if cmd.endswith("-m pip --version"):
            env = "system" if cmd.startswith("python3") else self.env_of(cmd)
            return (0, "pip 23.0.1", "") if env == "system" or self.venvs.get(env) else (1, "", "")
        env = self.env_of(cmd)
        pkgs = self.envs.setdefault(env, {})
        words = shlex.split(cmd)
        if "list" in words:
            rows = [{"name": n, "version": v} for n, v in sorted(pkgs.items())]
            return 0, json.dumps(rows) + "\n", ""
        if "uninstall" in words:
            for name in words[words.index("-y") + 1 :]:
                pkgs.pop(name, None)
            return 0, "Successfully uninstalled", ""
        if "install" in words:
            args = words[words.index("install") + 1 :]
            specs = [
                w
                for i, w in enumerate(args)
                if not w.startswith("-") and args[i - 1] not in ("-r", "--find-links")
            ]
            if "-r" in args:
                specs += self.files[args[args.index("-r") + 1]].split()
            would = []
            for spec in specs:
                req = parse_requirement(spec)
                if req.name not in self.index:
                    return 1, "", f"ERROR: No matching distribution found for {spec}"
                fits = [v for v in self.index[req.name] if req.satisfied_by(v)]
                current = pkgs.get(req.name)
                keep = current is not None and req.satisfied_by(current) and "-U" not in words
                pick = current if keep and current else fits[-1]
                if pkgs.get(req.name) != pick or "--force-reinstall" in words:
                    would.append(f"{req.name}-{pick}")
                if "--dry-run" not in words:
                    pkgs[req.name] = pick
            if "--dry-run" in words:
                return 0, f"Would install {' '.join(would)}\n" if would else "", ""
            return 0, f"Successfully installed {' '.join(would)}", ""
        return 0, "", ""


def run(conn: FakeConnection, check: bool = False, **args: Any) -> ModuleResult:
    mod = lookup("ansible.builtin.pip")
    assert mod is not None
    return mod.run(make_ctx("pip", args, conn, check=check))


def errors(**args: Any) -> list[str]:
    mod = lookup("pip")
    assert mod is not None
    return prepare(mod, args)[1]


def test_installs_what_is_missing_then_reports_ok() -> None:
    py = Python(venvs={"/opt/app": True})
    first = run(py.conn(), name=["tinypkg"], virtualenv="/opt/app")
    assert first.changed and not first.failed, first.msg
    assert py.envs["/opt/app"] == {"tinypkg": "2.0"}
    assert first.data["cmd"].endswith("install tinypkg")
    second = run(py.conn(), name=["tinypkg"], virtualenv="/opt/app")
    assert not second.changed and second.msg == "all requirements satisfied"


def test_a_version_that_does_not_match_is_installed_and_one_that_does_is_kept() -> None:
    py = Python(tinypkg="2.0")
    assert run(py.conn(), name=["tinypkg"], version="1.0").changed
    assert py.envs["system"]["tinypkg"] == "1.0"
    assert not run(py.conn(), name=["tinypkg>=1.0,<2"]).changed


def test_check_mode_predicts_without_installing() -> None:
    py = Python()
    conn = py.conn()
    result = run(conn, check=True, name=["tinypkg==1.0"])
    assert result.changed and result.msg == "would install tinypkg==1.0"
    assert py.envs["system"] == {}
    assert not any("install" in c and "list" not in c for c in conn.commands)


def test_absent_removes_only_installed_packages() -> None:
    py = Python(tinypkg="1.0")
    result = run(py.conn(), name=["tinypkg", "other"], state="absent")
    assert result.changed and py.envs["system"] == {}
    assert "uninstall -y tinypkg" in result.data["cmd"] and "other" not in result.data["cmd"]
    assert not run(py.conn(), name=["tinypkg"], state="absent").changed


def test_latest_upgrades_once_and_check_mode_asks_pip() -> None:
    py = Python(tinypkg="1.0")
    predicted = run(py.conn(), check=True, name=["tinypkg"], state="latest")
    assert predicted.changed and "tinypkg-2.0" in predicted.msg
    assert py.envs["system"]["tinypkg"] == "1.0"
    assert run(py.conn(), name=["tinypkg"], state="latest").changed
    assert py.envs["system"]["tinypkg"] == "2.0"
    assert not run(py.conn(), name=["tinypkg"], state="latest").changed
    assert not run(py.conn(), check=True, name=["tinypkg"], state="latest").changed


def test_forcereinstall_always_changes() -> None:
    py = Python(tinypkg="2.0")
    assert run(py.conn(), name=["tinypkg"], state="forcereinstall").changed


def test_virtualenv_is_created_once_with_the_given_command() -> None:
    py = Python()
    conn = py.conn()
    args = {"name": ["tinypkg"], "virtualenv": "/opt/app", "virtualenv_command": "python3 -m venv"}
    first = run(conn, **args)
    assert first.changed and "created virtualenv /opt/app" in first.msg
    assert "python3 -m venv /opt/app" in conn.commands
    conn2 = py.conn()
    assert not run(conn2, **args).changed
    assert not any("-m venv" in c for c in conn2.commands)


def test_check_mode_does_not_create_the_virtualenv() -> None:
    py = Python()
    result = run(py.conn(), check=True, name=["tinypkg"], virtualenv="/opt/app")
    assert result.changed and "would create virtualenv" in result.msg
    assert py.venvs == {}


def test_absent_from_a_missing_virtualenv_is_ok_and_creates_nothing() -> None:
    py = Python()
    result = run(py.conn(), name=["tinypkg"], state="absent", virtualenv="/opt/gone")
    assert not result.changed and not result.failed and py.venvs == {}


def test_a_venv_without_pip_is_served_by_the_hosts_pip() -> None:
    py = Python(venvs={"/opt/bare": False})
    conn = py.conn()
    assert run(conn, name=["tinypkg"], virtualenv="/opt/bare").changed
    assert py.envs["/opt/bare"] == {"tinypkg": "2.0"}
    assert any(c.startswith("python3 -m pip --python /opt/bare/bin/python") for c in conn.commands)


def test_extra_args_and_executable_reach_pip() -> None:
    py = Python()
    conn = py.conn()
    run(
        conn,
        name=["tinypkg"],
        executable="/usr/bin/pip3",
        extra_args="--no-index --find-links /wheels",
    )
    install = next(c for c in conn.commands if " install " in c)
    assert install.startswith("/usr/bin/pip3 ")
    assert "--no-index --find-links /wheels tinypkg" in install


def test_a_failing_install_fails_with_pips_reason() -> None:
    result = run(Python().conn(), name=["nosuchpkg"])
    assert result.failed and "No matching distribution found" in result.msg


def test_requirements_files_install_and_count_changes_from_pip_list() -> None:
    py = Python()
    conn = py.conn()
    result = run(conn, requirements="/srv/app/requirements.txt", chdir="/srv/app")
    assert any(c.startswith("cd /srv/app && ") and "-r /srv/app/requirements.txt" in c
               for c in conn.commands)  # fmt: skip
    assert result.changed and not result.failed
    assert py.envs["system"] == {"tinypkg": "1.0", "other": "0.3"}
    assert result.msg == "installed other 0.3, tinypkg 1.0"
    again = run(py.conn(), requirements="/srv/app/requirements.txt", chdir="/srv/app")
    assert not again.changed


@pytest.mark.parametrize(
    ("spec", "version", "ok"),
    [
        ("a==1.0", "1.0.0", True),
        ("a==1.0", "1.0.1", False),
        ("a>=1.2,<2", "1.10", True),
        ("a>=1.2,<2", "2.0", False),
        ("a<2", "2.0rc1", True),
        ("a!=1.5", "1.5", False),
        ("a~=1.4", "1.9", True),
        ("a~=1.4.2", "1.5.0", False),
        ("a==1.*", "1.7", True),
        ("a[extra]>1", "1.1", True),
    ],
)
def test_version_specifiers(spec: str, version: str, ok: bool) -> None:
    assert parse_requirement(spec).satisfied_by(version) is ok


def test_bad_arguments_are_refused_before_any_host() -> None:
    assert errors(name=["a", "b"], version="1.0") == ["module pip: version needs exactly one name"]
    assert "not a package requirement" in errors(name=["=1.0"])[0]
    assert errors(requirements="r.txt", state="absent")
    assert errors(name=["a"], requirements="r.txt")
    assert errors(name=["a"], virtualenv="/v", executable="/p")
    assert errors()
