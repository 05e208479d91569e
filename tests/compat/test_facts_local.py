"""Facts on this machine (local connection): ansible-playbook's setup and fleetkit's, key by key.

Both tools run tests/compat/facts/site.yml against the machine itself as root
(same interpreter: /usr/bin/python3), and the comparison of facts_compare.py must
find no key different or missing beyond the named volatile ones; the registered
getent and package_facts results, ansible_check_mode and the become play's
ansible_user_id / ansible_env.SUDO_USER must be the same too. The figures are printed.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from tests.compat.facts_compare import (
    compare,
    load,
    local_volatile,
    run_both,
    spelling_problems,
)

pytestmark = pytest.mark.compat

SITE = Path(__file__).parent / "facts"


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    if os.geteuid() != 0 or shutil.which("sudo") is None:
        pytest.skip("the become play needs root with sudo on this machine")
    tmp = tmp_path_factory.mktemp("facts-local")
    inv = tmp / "hosts.ini"
    inv.write_text("target ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n")
    return run_both(SITE, (inv, inv), tmp)


def test_setup_facts_are_ansibles_key_by_key(outputs: tuple[Path, Path]) -> None:
    ansible, fleetkit = (load(out, "target", "user") for out in outputs)
    result = compare(ansible["setup"], fleetkit["setup"], local_volatile())
    print("\n" + result.summary("this machine (local connection, root)"))
    assert not result.different
    assert not result.missing and not result.extra
    assert result.total == len(ansible["setup"]) and len(result.same) > 90


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


def test_become_to_the_connecting_user_gives_the_same_facts(outputs: tuple[Path, Path]) -> None:
    """root becoming root: Ansible runs no sudo then (become_allow_same_user is off),
    fleetkit does (ansible_env.SUDO_* differ: tests/compat/test_facts_lab.py checks a
    real become, fleet to root)."""
    ansible, fleetkit = (load(out, "target", "become") for out in outputs)
    assert fleetkit["user_id"] == ansible["user_id"] == "root"
    assert fleetkit["home"] == ansible["home"] == "/root"
    volatile = local_volatile()
    volatile["ansible_env"] = (
        "fleetkit ran sudo (it resets the environment), Ansible did not",
        ("*",),
    )
    result = compare(ansible["setup"], fleetkit["setup"], volatile)
    print("\n" + result.summary("this machine with become (gather_subset: !all)"))
    assert not result.different and not result.missing and not result.extra
