"""`fleetkit doc MODULE` and `fleetkit doc --list` (the ansible-doc habit)."""

from __future__ import annotations

import pytest

from fleetkit.cli import main

pytestmark = pytest.mark.unit


def doc(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = int(main(["doc", *args]))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_a_native_module_shows_its_arguments_and_what_goes_through_ansible(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = doc(capsys, "apt")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "apt  (native: fleetkit's own code)"
    native = lines[lines.index("ARGUMENTS") + 1 :]
    assert any(line.startswith("  update_cache: bool") for line in native)
    through = next(i for i, line in enumerate(lines) if line.startswith("THROUGH "))
    assert lines[through].startswith("THROUGH ansible.builtin.apt ")
    ansible_only = [line.split(":")[0].strip() for line in lines[through + 1 :]]
    assert "cache_valid_time" in ansible_only and "autoremove" in ansible_only
    # an option fleetkit takes (update_cache, install_recommends) is not listed again
    assert "update_cache" not in ansible_only and "install_recommends" not in ansible_only


def test_an_action_plugin_module_lists_nothing_through_ansible(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = doc(capsys, "template")
    assert code == 0 and "THROUGH" not in out
    # copy's action only runs its module with remote_src: that is when Ansible's runs
    code, out, _ = doc(capsys, "copy")
    assert code == 0
    assert "THROUGH ansible.builtin.copy (with remote_src: true, the task runs" in out


def test_a_module_only_ansible_has_shows_its_own_docs(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = doc(capsys, "tempfile")
    assert code == 0
    assert out.startswith("ansible.builtin.tempfile  (through Ansible (ansible-core's module")
    assert "\nARGUMENTS\n" in out and "\n  suffix: " in out
    assert "\nRETURN VALUES\n  path: str" in out


def test_an_unknown_module_is_exit_2_with_a_suggestion(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = doc(capsys, "lineinfle")
    assert code == 2
    assert "unknown module 'lineinfle'" in err and "lineinfile" in err


def test_list_names_native_modules_then_ansibles(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = doc(capsys, "--list")
    assert code == 0
    lines = out.splitlines()
    assert "apt  native" in lines and "ansible.builtin.tempfile  ansible" in lines
    # modules that need Ansible's controller-side action plugin are left out
    assert "ansible.builtin.assemble  ansible" not in lines
    assert lines.index("apt  native") < lines.index("ansible.builtin.tempfile  ansible")
