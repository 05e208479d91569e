"""setup: Ansible's facts in one round trip, registered and injected as Ansible does."""

from __future__ import annotations

from typing import Any

import pytest
from tests.unit.modules.helpers import make_ctx

from fleetkit.executor.facts import FACTS_MARKER
from fleetkit.modules.args import prepare
from fleetkit.modules.base import ModuleResult
from fleetkit.modules.registry import lookup
from fleetkit.testing.fake_connection import FakeCall, FakeConnection
from fleetkit.testing.fake_facts import DEBIAN_OS_RELEASE, fact_output, python_probe

pytestmark = pytest.mark.unit

OUT = fact_output(
    files={"/etc/os-release": DEBIAN_OS_RELEASE, "/etc/debian_version": "12.11\n"},
    python=python_probe(),
    values={"discovered_interpreter_python": "/usr/bin/python3.11", "bin:ip": "/usr/sbin/ip"},
)


def fake_host(out: str = OUT) -> FakeConnection:
    def handle(call: FakeCall) -> tuple[int, str, str]:
        return (0, out, "") if FACTS_MARKER in call.command else (1, "", "unexpected")

    return FakeConnection("h1", handle)


def run(
    conn: FakeConnection,
    check: bool = False,
    variables: dict[str, Any] | None = None,
    **args: object,
) -> ModuleResult:
    mod = lookup("ansible.builtin.setup")
    assert mod is not None
    return mod.run(make_ctx("setup", args, conn, check=check, variables=variables))


def test_one_round_trip_registers_prefixed_names_and_injects_both_spellings() -> None:
    conn = fake_host()
    res = run(conn)
    assert not res.changed and not res.failed and len(conn.commands) == 1
    assert res.registered is not None
    registered = res.registered
    assert registered["changed"] is False and registered["failed"] is False
    assert registered["ansible_facts"]["ansible_distribution"] == "Debian"
    assert registered["ansible_facts"]["discovered_interpreter_python"] == "/usr/bin/python3.11"
    assert res.facts["ansible_os_family"] == "Debian"
    assert res.facts["ansible_distribution_version"] == "12.11"
    assert res.facts["ansible_facts"]["distribution_major_version"] == "12"
    assert res.facts["ansible_facts"]["gather_subset"] == ["all"]
    assert res.facts["discovered_interpreter_python"] == "/usr/bin/python3.11"


def test_the_fact_cache_keeps_earlier_facts() -> None:
    earlier = {"ansible_facts": {"getent_passwd": {"root": []}, "distribution": "Old"}}
    res = run(fake_host(), variables=earlier, filter=["ansible_distribution"])
    assert res.facts["ansible_facts"] == {
        "getent_passwd": {"root": []},
        "distribution": "Debian",
        "discovered_interpreter_python": "/usr/bin/python3.11",
    }


def test_gather_subset_and_filter_trim_as_ansible_does() -> None:
    facts = run(fake_host(), gather_subset=["!all"]).facts
    assert "ansible_distribution" in facts and "ansible_memtotal_mb" not in facts
    assert "ansible_interfaces" not in facts
    registered = run(fake_host(), filter=["ansible_distribution*"]).registered
    assert registered is not None
    assert set(registered["ansible_facts"]) == {
        "ansible_distribution",
        "ansible_distribution_file_parsed",
        "ansible_distribution_file_path",
        "ansible_distribution_file_variety",
        "ansible_distribution_major_version",
        "ansible_distribution_minor_version",
        "ansible_distribution_release",
        "ansible_distribution_version",
        "discovered_interpreter_python",
    }


def test_the_script_reads_only_what_the_subset_needs() -> None:
    conn = fake_host()
    run(conn, gather_subset=["!all"])
    minimal = conn.commands[0]
    run(conn)
    full = conn.commands[1]
    assert "ip -4 route get 8.8.8.8" in full and "ip -4 route get 8.8.8.8" not in minimal
    assert "/sys/block" in full and "/sys/block" not in minimal


def test_the_interpreter_is_ansible_python_interpreter_else_discovered() -> None:
    conn = fake_host()
    run(conn, variables={"ansible_python_interpreter": "/opt/py/bin/python3"})
    assert "command -v /opt/py/bin/python3" in conn.commands[0]
    assert "discovered_interpreter_python" not in conn.commands[0]
    run(conn)
    assert "python3.13 python3.12" in conn.commands[1]


def test_check_mode_gathers_too() -> None:
    assert run(fake_host(), check=True).facts["ansible_distribution"] == "Debian"


def test_a_failed_script_is_a_failed_result() -> None:
    res = run(FakeConnection("h1", lambda call: (2, "", "sh: boom")))
    assert res.failed and "boom" in res.msg


def test_an_unknown_subset_is_refused_with_a_suggestion() -> None:
    mod = lookup("setup")
    assert mod is not None
    _, errors = prepare(mod, {"gather_subset": ["netwrok"]})
    assert errors and "did you mean 'network'" in errors[0]
    _, errors = prepare(mod, {"gather_subset": ["!netwrok", "interfaces", "min"]})
    assert not errors  # an unknown exclusion is ignored, as by Ansible
