"""A native module's task with an option only Ansible's module takes runs as Ansible's
module (the fallback), as ansible-playbook would run it; a typo stays a load error.

Differential case 126 compares such tasks' host state and registered values with
ansible-playbook 2.19.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.unit.playbook.helpers import write

from fleetkit.errors import PlaybookError
from fleetkit.modules.ansible_fallback import resolve as res_mod
from fleetkit.modules.ansible_fallback.run import AnsibleModule
from fleetkit.modules.registry import find
from fleetkit.playbook.load import load_playbook
from fleetkit.playbook.schema import Playbook, Task
from fleetkit.playbook.session import RunRequest, execute, finish, prepare
from fleetkit.report.jsonl import JsonLinesReporter

pytestmark = pytest.mark.unit


def _load(tmp: Path, tasks: str) -> Playbook:
    path = tmp / "site.yml"
    path.write_text(f"- hosts: all\n  gather_facts: false\n  tasks:\n{tasks}")
    return load_playbook(path)


def _task(tmp: Path, tasks: str) -> Task:
    return _load(tmp, tasks).plays[0].tasks[0]


@pytest.fixture
def no_ansible_core(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A controller without ansible-core (resolve's cache cleared around the test)."""
    monkeypatch.setattr(res_mod, "ansible_version", lambda: None)
    res_mod.resolve.cache_clear()
    yield
    res_mod.resolve.cache_clear()


def test_an_option_only_ansibles_apt_takes_sends_the_task_to_ansibles_apt(
    tmp_path: Path,
) -> None:
    task = _task(tmp_path, "    - apt: name=curl cache_valid_time=3600 autoremove=true\n")
    assert task.via_ansible and task.module == "ansible.builtin.apt"
    module = find(task.module, native=not task.via_ansible)
    assert isinstance(module, AnsibleModule) and module.resolution.runnable
    assert dict(task.args) == {"name": "curl", "cache_valid_time": "3600", "autoremove": "true"}


def test_options_fleetkit_implements_keep_the_native_module(tmp_path: Path) -> None:
    task = _task(tmp_path, "    - apt: {name: curl, state: latest, update_cache: true}\n")
    assert not task.via_ansible and task.module == "apt"
    assert not isinstance(find(task.module, native=not task.via_ansible), AnsibleModule)


def test_an_alias_of_ansibles_option_counts(tmp_path: Path) -> None:
    # default-release is apt's documented alias of default_release
    task = _task(tmp_path, "    - ansible.builtin.apt: {name: curl, default-release: bookworm}\n")
    assert task.via_ansible and task.module == "ansible.builtin.apt"


def test_a_typo_is_still_a_load_error_with_the_native_suggestion(tmp_path: Path) -> None:
    with pytest.raises(PlaybookError) as err:
        _load(tmp_path, "    - name: t\n      apt: {name: curl, cach_valid_time: 3600}\n")
    assert "unknown argument 'cach_valid_time'" in err.value.message
    assert err.value.exit_code == 2 and str(err.value.position).endswith(":5")


def test_an_option_ansibles_module_lacks_too_keeps_the_error(tmp_path: Path) -> None:
    # cache_valid_time is Ansible's, nosuch is nobody's: Ansible's apt would refuse it too
    with pytest.raises(PlaybookError) as err:
        _load(tmp_path, "    - apt: {name: curl, cache_valid_time: 1, nosuch: 1}\n")
    assert "unknown argument" in err.value.message


def test_an_action_plugin_module_keeps_the_error(tmp_path: Path) -> None:
    # copy's Ansible module needs its controller-side action plugin: not run by fleetkit
    with pytest.raises(PlaybookError) as err:
        _load(tmp_path, "    - copy: {dest: /x, content: y, decrypt: false}\n")
    assert "unknown argument 'decrypt'" in err.value.message
    assert "Ansible's" not in err.value.message


@pytest.mark.usefixtures("no_ansible_core")
def test_without_ansible_core_the_error_says_what_would_run_it(tmp_path: Path) -> None:
    with pytest.raises(PlaybookError) as err:
        _load(tmp_path, "    - apt: {name: curl, cache_valid_time: 3600}\n")
    message = err.value.message
    assert "unknown argument 'cache_valid_time'" in message
    assert "ansible.builtin.apt" in message and "fleetkit[ansible]" in message


def test_a_routed_task_runs_ansibles_module_on_the_host(tmp_path: Path) -> None:
    """End to end on the local connection: Ansible's file module does the work."""
    target = tmp_path / "touched"
    book = write(
        tmp_path / "site.yml",
        "- hosts: localhost\n  gather_facts: false\n  tasks:\n"
        f"    - file: {{path: {target}, state: touch, mode: '0640', unsafe_writes: true}}\n"
        "      register: out\n"
        "    - assert: {that: [out.changed, \"out.state == 'file'\", \"out.mode == '0640'\"]}\n",
    )
    inv = write(
        tmp_path / "hosts",
        f"localhost ansible_connection=local ansible_python_interpreter={sys.executable}\n",
    )
    prepared = prepare(RunRequest(playbook=book, inventory=inv, cwd=tmp_path))
    task = prepared.playbook.plays[0].tasks[0]
    assert task.via_ansible
    result = finish(prepared, execute(prepared, JsonLinesReporter(io.StringIO())))
    assert result.exit_code() == 0
    assert target.is_file() and target.stat().st_mode & 0o777 == 0o640


def test_copy_remote_src_runs_ansibles_copy_module(tmp_path: Path) -> None:
    # Ansible's copy action only runs its module with remote_src (case 129)
    task = _task(tmp_path, "    - copy: {src: /etc/hostname, dest: /tmp/h, remote_src: true}\n")
    assert task.via_ansible and task.module == "ansible.builtin.copy"
    templated = _task(tmp_path, "    - copy: {src: /a, dest: /b, remote_src: '{{ remote }}'}\n")
    assert templated.via_ansible  # decided on the host: false there is a clear failure
    native = _task(tmp_path, "    - copy: {src: a.txt, dest: /b, remote_src: false}\n")
    assert not native.via_ansible and native.module == "copy"


def test_copy_options_without_remote_src_stay_native_errors(tmp_path: Path) -> None:
    # decrypt is Ansible's, but without remote_src Ansible's copy needs its action plugin
    with pytest.raises(PlaybookError) as err:
        _load(tmp_path, "    - copy: {src: a.txt, dest: /b, decrypt: false}\n")
    assert "unknown argument 'decrypt'" in err.value.message


@pytest.mark.usefixtures("no_ansible_core")
def test_copy_remote_src_without_ansible_core_is_refused_at_load(tmp_path: Path) -> None:
    with pytest.raises(PlaybookError) as err:
        _load(tmp_path, "    - copy: {src: /a, dest: /b, remote_src: true}\n")
    assert "remote_src: true runs Ansible's module" in err.value.message
    assert "fleetkit[ansible]" in err.value.message and err.value.exit_code == 2
