"""The Ansible module fallback: resolution, load-time policy, payload keys, result mapping,
and one module run for real from ansible-core's code on this machine (local connection)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from fleetkit.connection.base import CommandResult
from fleetkit.connection.local import LocalConnection
from fleetkit.errors import PlaybookError
from fleetkit.modules.ansible_fallback import resolve as res_mod
from fleetkit.modules.ansible_fallback.payload import module_args
from fleetkit.modules.ansible_fallback.result import MARKER, parse, registered, to_result
from fleetkit.modules.ansible_fallback.run import AnsibleModule, interpreter_of, launcher
from fleetkit.modules.base import ModuleContext
from fleetkit.modules.registry import find, suggest_module
from fleetkit.playbook.check import fallback_warnings
from fleetkit.playbook.load import load_playbook

pytestmark = pytest.mark.unit


def _result(stdout: str, rc: int = 0, stderr: str = "") -> CommandResult:
    return CommandResult(rc=rc, stdout=stdout, stderr=stderr, duration_s=0.0)


def test_native_modules_stay_native_and_others_resolve_to_ansible() -> None:
    assert not isinstance(find("ansible.builtin.copy"), AnsibleModule)
    for name, fqcn in (
        ("tempfile", "ansible.builtin.tempfile"),
        ("ansible.builtin.known_hosts", "ansible.builtin.known_hosts"),
        ("pam_limits", "community.general.pam_limits"),
        ("ansible.posix.acl", "ansible.posix.acl"),
    ):
        module = find(name)
        assert isinstance(module, AnsibleModule), name
        assert module.name == fqcn
        assert module.resolution.runnable


def test_unknown_names_resolve_to_nothing() -> None:
    for name in ("nosuch", "community.general.nosuch", "nobody.nowhere.thing"):
        assert find(name) is None


def test_action_plugin_modules_are_known_but_not_runnable() -> None:
    found = res_mod.resolve("ansible.builtin.assemble")
    assert found is not None and found.problem is not None
    assert "action plugin" in found.problem
    patch = res_mod.resolve("ansible.posix.patch")
    assert patch is not None and patch.runnable and patch.needs_true == ("remote_src",)


def test_without_ansible_core_the_catalogue_still_tells_modules_from_typos(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(res_mod, "ansible_version", lambda: None)
    resolve = res_mod.resolve.__wrapped__
    known = resolve("pam_limits")
    assert known is not None and known.fqcn == "community.general.pam_limits"
    assert known.problem is not None and "fleetkit[ansible]" in known.problem
    assert resolve("community.general.whatever_new") is not None  # a known collection
    assert resolve("pam_limitz") is None
    assert resolve("nobody.nowhere.thing") is None


def test_unsupported_ansible_core_version_is_a_problem(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(res_mod, "ansible_version", lambda: "2.18.3")
    problem = res_mod.version_problem()
    assert problem is not None and ">=2.19,<2.20" in problem


def test_misspelt_fqcn_suggests_the_collections_module() -> None:
    assert suggest_module("community.general.ini_fil") == "community.general.ini_file"


def _playbook(tmp_path: Path, tasks: str) -> Path:
    path = tmp_path / "site.yml"
    path.write_text(f"- hosts: all\n  gather_facts: false\n  tasks:\n{tasks}")
    return path


def test_unknown_module_is_a_load_error_with_line_and_suggestion(tmp_path: Path) -> None:
    path = _playbook(tmp_path, "    - name: t\n      community.general.ini_fil: {path: /x}\n")
    with pytest.raises(PlaybookError) as err:
        load_playbook(path)
    assert "community.general.ini_file" in err.value.message
    assert err.value.exit_code == 2
    assert str(err.value.position).endswith(":5")


def test_known_but_unrunnable_module_is_a_warning_not_an_error(tmp_path: Path) -> None:
    path = _playbook(
        tmp_path,
        "    - name: skipped\n      ansible.builtin.assemble: {src: /a, dest: /b}\n"
        "      when: false\n    - name: fine\n      community.general.ini_file: {path: /x}\n",
    )
    playbook = load_playbook(path)
    warnings = fallback_warnings(playbook)
    assert len(warnings) == 1
    assert "ansible.builtin.assemble" in warnings[0] and "site.yml:4" in warnings[0]
    assert "ini_file" not in warnings[0]


def test_payload_args_carry_ansibles_internal_keys() -> None:
    args = module_args(
        "community.general.ini_file",
        {"path": "/x"},
        check=True,
        diff=True,
        no_log=True,
        variables={},
    )
    assert args["path"] == "/x"
    assert args["_ansible_check_mode"] is True
    assert args["_ansible_diff"] is True
    assert args["_ansible_no_log"] is True
    assert args["_ansible_module_name"] == "community.general.ini_file"
    assert args["_ansible_remote_tmp"] == "~/.ansible/tmp"
    assert args["_ansible_tmpdir"] is None
    assert args["_ansible_version"].startswith("2.19.")


def test_result_junk_around_json_is_filtered_and_internal_keys_removed() -> None:
    out = "motd junk\n" + json.dumps(
        {
            "changed": True,
            "stdout": "a\nb",
            "invocation": {"module_args": {}},
            "_ansible_no_log": False,
            "warnings": [],
            "ansible_facts": {"discovered_interpreter_python": "/x", "k": 1},
        }
    )
    data = parse(_result(out + "\ntrailing"), interpreter="/usr/bin/python3")
    assert data == {
        "changed": True,
        "stdout": "a\nb",
        "stdout_lines": ["a", "b"],
        "ansible_facts": {"k": 1},
    }
    assert registered(data)["failed"] is False


def test_failed_defaults_from_rc_as_ansible_does() -> None:
    assert registered({"rc": 2})["failed"] is True
    assert registered({"rc": 0})["failed"] is False
    assert registered({})["changed"] is False


def test_no_json_is_a_failed_result_with_the_output() -> None:
    data = parse(_result("Traceback: boom", rc=1, stderr="err"), interpreter="/usr/bin/python3")
    mr = to_result(data)
    assert mr.failed and "deserialization" in mr.msg
    assert mr.registered is not None and mr.registered["module_stdout"] == "Traceback: boom"


def test_diff_dict_becomes_unified_text_and_facts_pass_through() -> None:
    mr = to_result(
        {
            "changed": True,
            "diff": {"before": "a\n", "after": "b\n", "before_header": "f", "after_header": "f"},
            "ansible_facts": {"getent_passwd": {"x": []}},
        },
        discovered="/usr/bin/python3.11",
    )
    assert "-a" in mr.diff and "+b" in mr.diff
    assert mr.facts["getent_passwd"] == {"x": []}
    assert mr.facts["discovered_interpreter_python"] == "/usr/bin/python3.11"
    assert mr.registered is not None
    assert mr.registered["ansible_facts"]["discovered_interpreter_python"] == "/usr/bin/python3.11"


def test_interpreter_from_vars_then_discovered_fact_then_discovery() -> None:
    assert interpreter_of({"ansible_python_interpreter": "/opt/py"}) == "/opt/py"
    assert interpreter_of({"ansible_python_interpreter": "auto"}) is None
    facts = {"ansible_facts": {"discovered_interpreter_python": "/usr/bin/python3"}}
    assert interpreter_of(facts) == "/usr/bin/python3"
    assert interpreter_of({}) is None
    assert MARKER in launcher(None) and "python3.11" in launcher(None)
    assert "exec /opt/py -" in launcher("/opt/py")


class _Templar:
    def render(self, value: Any, variables: Any) -> Any:
        return value

    def evaluate(self, expression: str, variables: Any) -> Any:
        return expression

    def render_file(self, name: str, variables: Any) -> str:
        return ""

    def find_template(self, name: str) -> Path:
        return Path(name)


def _ctx(args: dict[str, Any], variables: dict[str, Any], **kw: Any) -> ModuleContext:
    return ModuleContext(
        host="localhost",
        conn=LocalConnection("localhost"),
        args=args,
        variables=variables,
        templar=_Templar(),
        **kw,
    )


def test_an_ansible_module_runs_for_real_and_registers_its_json(tmp_path: Path) -> None:
    module = find("community.general.ini_file")
    assert isinstance(module, AnsibleModule)
    target = tmp_path / "a.ini"
    args = {"path": str(target), "section": "s", "option": "o", "value": "1"}
    py = {"ansible_python_interpreter": sys.executable}
    checked = module.run(_ctx(args, py, check=True, diff=True))
    assert checked.changed and not target.exists()
    assert "+o = 1" in checked.diff
    done = module.run(_ctx(args, py))
    assert done.changed and not done.failed
    assert target.read_text().strip() == "[s]\no = 1"
    assert done.registered is not None and done.registered["msg"] == "section and option added"
    again = module.run(_ctx(args, py))
    assert not again.changed


def test_a_module_failing_on_the_host_is_a_failed_result(tmp_path: Path) -> None:
    module = find("community.general.ini_file")
    assert isinstance(module, AnsibleModule)
    mr = module.run(_ctx({"section": "s"}, {"ansible_python_interpreter": sys.executable}))
    assert mr.failed and "path" in mr.msg


def test_a_missing_interpreter_is_a_clear_failure() -> None:
    module = find("ansible.builtin.ping")
    assert isinstance(module, AnsibleModule)
    mr = module.run(_ctx({}, {"ansible_python_interpreter": "/nonexistent/python3"}))
    assert mr.failed
    assert "/nonexistent/python3" in mr.msg and "not found" in mr.msg
