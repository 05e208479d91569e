"""Facts on a lab host over SSH: ansible-playbook's setup and fleetkit's, key by key.

Both tools run tests/compat/facts/site.yml against the SAME lab host (lab1) as the
lab user, each with its own inventory and interpreter discovery; then the become
play (fleet -> root through sudo). The comparison of facts_compare.py must find no
key different or missing beyond the named volatile ones (VOLATILE: the clock,
free memory, load, disk usage, the SSH client's port, sudo's command line); the
registered getent and package_facts results, discovered_interpreter_python,
ansible_check_mode, and the become play's ansible_user_id and
ansible_env.SUDO_USER must be the same. The figures are printed (run with -s).

    .venv/bin/pytest --basetemp=/tmp/pt-$RANDOM -s -m "compat and integration" \\
        tests/compat/test_facts_lab.py
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from tests.compat.facts_compare import compare, load, run_both, spelling_problems

from fleetkit.lab.model import LabState

pytestmark = [pytest.mark.compat, pytest.mark.integration]

SITE = Path(__file__).parent / "facts"
TARGET = "lab1"


@pytest.fixture(scope="module")
def outputs(lab: LabState, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    tmp = tmp_path_factory.mktemp("facts-lab")
    host = next(h for h in lab.hosts if h.name == TARGET)
    common = {"ansible_host": host.address, "ansible_user": "fleet"}
    ansible = {
        **common,
        "ansible_ssh_private_key_file": str(lab.key),
        "ansible_ssh_common_args": f"-o UserKnownHostsFile={lab.known_hosts}"
        " -o StrictHostKeyChecking=yes",
    }
    fleetkit = {
        **common,
        "ansible_ssh_private_key_file": str(lab.key),
        "fleetkit_known_hosts": str(lab.known_hosts),
        "fleetkit_host_key_policy": "verify",
    }
    inventories = (tmp / "ansible.yml", tmp / "fleetkit.yml")
    for path, hostvars in zip(inventories, (ansible, fleetkit), strict=True):
        path.write_text(yaml.safe_dump({"all": {"hosts": {"target": hostvars}}}))
    return run_both(SITE, inventories, tmp)


def test_setup_facts_are_ansibles_key_by_key(outputs: tuple[Path, Path]) -> None:
    ansible, fleetkit = (load(out, "target", "user") for out in outputs)
    result = compare(ansible["setup"], fleetkit["setup"])
    print("\n" + result.summary(f"lab host {TARGET} (SSH, user fleet)"))
    for key, why in result.different.items():
        print(f"  different {key}: {why}")
    assert not result.different
    assert not result.missing and not result.extra


def test_both_spellings_hold_the_registered_facts(outputs: tuple[Path, Path]) -> None:
    problems: list[str] = []
    for tool, out in zip(("ansible", "fleetkit"), outputs, strict=True):
        problems += spelling_problems(tool, load(out, "target", "user"))
    assert not problems


def test_getent_package_facts_and_check_mode_are_ansibles(outputs: tuple[Path, Path]) -> None:
    ansible, fleetkit = (load(out, "target", "user") for out in outputs)
    for key in ("getent_passwd", "getent_group", "getent_passwd_fact", "check_mode", "discovered"):
        a, f = ansible[key], fleetkit[key]
        if isinstance(a, dict):
            a = {k: v for k, v in a.items() if k not in ("invocation", "warnings")}
        assert f == a, key
    assert fleetkit["packages"] == ansible["packages"]
    assert fleetkit["packages_fact_count"] == ansible["packages_fact_count"] > 0


def test_become_gives_roots_facts_and_sudos_environment(outputs: tuple[Path, Path]) -> None:
    ansible, fleetkit = (load(out, "target", "become") for out in outputs)
    assert (fleetkit["user_id"], fleetkit["sudo_user"]) == (
        ansible["user_id"],
        ansible["sudo_user"],
    )
    assert (fleetkit["user_id"], fleetkit["sudo_user"]) == ("root", "fleet")
    assert fleetkit["home"] == ansible["home"]
    result = compare(ansible["setup"], fleetkit["setup"])
    print("\n" + result.summary(f"lab host {TARGET} through sudo (gather_subset: !all)"))
    for key, why in result.different.items():
        print(f"  different {key}: {why}")
    assert not result.different and not result.missing and not result.extra
