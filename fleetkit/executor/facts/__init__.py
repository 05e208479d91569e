"""A host's facts in ONE round trip: Ansible's names and values, and fleetkit's own view.

One shell script (script.py) prints the host's raw fact inputs; the controller
parses them (dump.py) and runs ansible-core 2.19's collectors on them
(collectors.py and the modules it names), so `gather_facts` and the `setup`
module return Ansible's `ansible_facts` and fleetkit's `facts.*` view
(fleet_view.py) from the same command.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from fleetkit.connection.base import CommandResult, Connection
from fleetkit.executor.facts.collectors import (
    VALID_SUBSETS,
    Options,
    SubsetError,
    collector_names,
    namespaced,
    script_parts,
    setup_facts,
)
from fleetkit.executor.facts.dump import Dump, parse_dump
from fleetkit.executor.facts.fleet_view import fleet_facts
from fleetkit.executor.facts.script import FACTS_MARKER, FALLBACK, facts_script

__all__ = [
    "FACTS_MARKER",
    "FACTS_SCRIPT",
    "FALLBACK",
    "INJECTED_NAMES",
    "VALID_SUBSETS",
    "Dump",
    "Gathered",
    "Options",
    "SubsetError",
    "collector_names",
    "facts_script",
    "fleet_facts",
    "from_output",
    "gather",
    "gather_facts",
    "injected",
    "namespaced",
    "parse_dump",
    "parse_facts",
    "script_parts",
    "setup_facts",
]

FACTS_SCRIPT = facts_script()
"""The script with Ansible's interpreter discovery and default options."""

KNOWN_FACTS = frozenset(
    {
        "all_ipv4_addresses", "all_ipv6_addresses", "apparmor", "architecture", "bios_date",
        "bios_vendor", "bios_version", "board_asset_tag", "board_name", "board_serial",
        "board_vendor", "board_version", "chassis_asset_tag", "chassis_serial",
        "chassis_vendor", "chassis_version", "cmdline", "date_time", "default_ipv4",
        "default_ipv6", "device_links", "devices", "distribution",
        "distribution_file_parsed", "distribution_file_path", "distribution_file_variety",
        "distribution_major_version", "distribution_minor_version", "distribution_release",
        "distribution_version", "dns", "domain", "effective_group_id", "effective_user_id",
        "env", "fibre_channel_wwn", "fips", "flags", "form_factor", "fqdn", "hostname",
        "hostnqn", "interfaces", "is_chroot", "iscsi_iqn", "kernel", "kernel_version",
        "loadavg", "local", "locally_reachable_ips", "lsb", "lvm", "machine", "machine_id",
        "memfree_mb", "memory_mb", "memtotal_mb", "mounts", "nodename", "os_family",
        "pkg_mgr", "proc_cmdline", "processor", "processor_cores", "processor_count",
        "processor_nproc", "processor_threads_per_core", "processor_vcpus", "product_name",
        "product_serial", "product_uuid", "product_version", "python", "python_version",
        "real_group_id", "real_user_id", "selinux", "selinux_python_present", "service_mgr",
        "ssh_host_key_dsa_public", "ssh_host_key_dsa_public_keytype",
        "ssh_host_key_ecdsa_public", "ssh_host_key_ecdsa_public_keytype",
        "ssh_host_key_ed25519_public", "ssh_host_key_ed25519_public_keytype",
        "ssh_host_key_rsa_public", "ssh_host_key_rsa_public_keytype", "swapfree_mb",
        "swaptotal_mb", "system", "system_capabilities", "system_capabilities_enforced",
        "system_vendor", "systemd", "uptime_seconds", "user_dir", "user_gecos", "user_gid",
        "user_id", "user_shell", "user_uid", "userspace_architecture", "userspace_bits",
        "virtualization_role", "virtualization_tech_guest", "virtualization_tech_host",
        "virtualization_type",
    }
)  # fmt: skip
"""Every fact name a Linux host can give (less its per-interface `ansible_<device>`)."""

INJECTED_NAMES = frozenset(
    {"ansible_facts", "module_setup", "gather_subset", "discovered_interpreter_python"}
    | {f"ansible_{k}" for k in KNOWN_FACTS}
)
"""The variables a setup task defines for later tasks (the static check reads them);
per-interface facts (`ansible_eth0`) are known only at run time."""


@dataclass(frozen=True)
class Gathered:
    """One gathering: the setup module's `ansible_facts`, fleetkit's view, the command."""

    module_facts: Mapping[str, Any]
    fleet: Mapping[str, Any]
    result: CommandResult


def gather(
    conn: Connection,
    *,
    interpreter: str | None = None,
    gather_subset: Iterable[str] = ("all",),
    filter_spec: Iterable[str] = (),
    fact_path: str = "/etc/ansible/facts.d",
    gather_timeout: int = 10,
    timeout: float | None = None,
    become: bool = False,
) -> Gathered:
    """Run the fact script once on conn and read both views from its output."""
    script = facts_script(
        interpreter,
        fact_path=fact_path,
        gather_timeout=gather_timeout,
        parts=script_parts(gather_subset),
    )
    res = conn.run(script, timeout=timeout, become=become)
    if not res.ok:
        return Gathered({}, {}, res)
    return from_output(
        res, gather_subset=gather_subset, filter_spec=filter_spec, fact_path=fact_path
    )


def from_output(
    res: CommandResult,
    *,
    gather_subset: Iterable[str] = ("all",),
    filter_spec: Iterable[str] = (),
    fact_path: str = "/etc/ansible/facts.d",
) -> Gathered:
    dump = parse_dump(res.stdout)
    facts = setup_facts(
        dump,
        gather_subset=gather_subset,
        filter_spec=filter_spec,
        options=Options(fact_path=fact_path),
    )
    return Gathered(facts, fleet_facts(dump), res)


def injected(
    module_facts: Mapping[str, Any], previous: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The host variables a setup result becomes, as Ansible's fact cache gives them:
    `ansible_facts` (merged into the host's earlier facts, `ansible_` stripped) and
    each returned name as a top-level variable (`ansible_os_family`, `gather_subset`)."""
    out: dict[str, Any] = dict(module_facts)
    merged = dict(previous) if isinstance(previous, Mapping) else {}
    merged.update(namespaced(module_facts))
    out["ansible_facts"] = merged
    return out


def parse_facts(stdout: str) -> dict[str, Any]:
    """fleetkit's `facts.*` view of the fact script's output."""
    return fleet_facts(parse_dump(stdout))


def gather_facts(
    conn: Connection, *, timeout: float | None = 30.0
) -> tuple[dict[str, Any], CommandResult]:
    """Run the fact script once on conn; (fleetkit's view, the command's result)."""
    found = gather(conn, timeout=timeout)
    return dict(found.fleet), found.result
