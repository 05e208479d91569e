"""The fact script itself on this machine's shells: POSIX sh (dash) and busybox sh alike."""

from __future__ import annotations

import shutil
import subprocess
from typing import Any

import pytest

from fleetkit.connection.local import LocalConnection
from fleetkit.executor.facts import FACTS_MARKER, facts_script, gather, parse_dump, setup_facts

pytestmark = pytest.mark.unit

ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin", "HOME": "/root", "LANG": "C.UTF-8"}
MOVING = {
    "ansible_date_time", "ansible_uptime_seconds", "ansible_loadavg", "ansible_memfree_mb",
    "ansible_memory_mb", "ansible_mounts", "ansible_interfaces", "ansible_all_ipv4_addresses",
    "ansible_all_ipv6_addresses", "ansible_env", "ansible_swapfree_mb",
}  # fmt: skip
"""Facts that move between two runs, or whose order is the shell's glob order under busybox."""


def run_under(shell: list[str], script: str) -> dict[str, Any]:
    out = subprocess.run(
        [*shell, "-c", script], capture_output=True, text=True, env=ENV, timeout=120, check=True
    ).stdout
    return setup_facts(parse_dump(out))


def test_the_script_is_posix_and_gives_the_same_facts_under_busybox_sh() -> None:
    busybox = shutil.which("busybox")
    if busybox is None:
        pytest.skip("no busybox on this machine")
    script = facts_script(shutil.which("python3"))
    dash, ash = run_under(["/bin/sh"], script), run_under([busybox, "sh"], script)
    assert set(dash) == set(ash)
    assert {k: v for k, v in dash.items() if k not in MOVING and not isinstance(v, dict)} == {
        k: v for k, v in ash.items() if k not in MOVING and not isinstance(v, dict)
    }
    assert dash["ansible_distribution"] and dash["ansible_os_family"]
    assert sorted(dash["ansible_interfaces"]) == sorted(ash["ansible_interfaces"])


def test_one_command_gives_every_family_of_facts() -> None:
    conn = LocalConnection("me")
    found = gather(conn)
    assert found.result.ok
    facts = found.module_facts
    for key in (
        "ansible_os_family", "ansible_distribution_version", "ansible_kernel",
        "ansible_architecture", "ansible_memtotal_mb", "ansible_processor_vcpus",
        "ansible_interfaces", "ansible_mounts", "ansible_virtualization_type", "ansible_env",
        "ansible_user_id", "ansible_date_time", "ansible_lsb", "ansible_service_mgr",
        "ansible_pkg_mgr", "ansible_selinux", "ansible_apparmor", "ansible_fqdn",
    ):  # fmt: skip
        assert key in facts, key
    assert found.fleet["cpus"] >= 1 and found.fleet["kernel"] == facts["ansible_kernel"]
    assert facts_script().startswith(FACTS_MARKER)


def test_a_minimal_subset_reads_no_network_hardware_or_virtual_data() -> None:
    small = facts_script(parts=frozenset())
    assert "ip -4 route get" not in small and "/sys/block" not in small
    assert "/proc/1/cgroup" not in small and "dmidecode -s" not in small
    found = gather(LocalConnection("me"), gather_subset=["!all"])
    assert "ansible_distribution" in found.module_facts
    assert "ansible_mounts" not in found.module_facts
