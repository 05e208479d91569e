"""Ansible's fact collectors for Linux, gather_subset and filter, as the setup module runs them.

Each collector has Ansible's name, fact ids and dependencies, so a gather_subset
selects exactly what ansible-core 2.19 selects (`!all` keeps the minimal set,
`network` also collects `distribution` and `platform` it depends on, a fact id
such as `interfaces` picks its collector). `setup_facts` returns the module's
`ansible_facts`: names with the `ansible_` prefix, trimmed by filter.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from fnmatch import fnmatch
from typing import Any

from fleetkit.executor.facts import distribution, hardware, network, services, storage, system
from fleetkit.executor.facts import virtual as virt
from fleetkit.executor.facts.dump import Dump

Facts = dict[str, Any]
Collect = Callable[[Dump, Facts, "Options"], Facts]


@dataclass(frozen=True)
class Options:
    """The setup module's arguments that change what collectors read."""

    fact_path: str = "/etc/ansible/facts.d"


@dataclass(frozen=True)
class Collector:
    name: str
    collect: Collect
    fact_ids: frozenset[str] = frozenset()
    requires: frozenset[str] = frozenset()


def _hardware(dump: Dump, got: Facts, opts: Options) -> Facts:
    facts: Facts = {}
    facts.update(hardware.cpu_facts(dump, got))
    facts.update(hardware.memory_facts(dump))
    facts.update(hardware.dmi_facts(dump))
    facts.update(hardware.sysinfo_facts(dump))
    facts.update(storage.device_facts(dump))
    facts.update(hardware.uptime_facts(dump))
    facts.update(hardware.lvm_facts(dump))
    facts.update(storage.mount_facts(dump))
    return facts


def _local(dump: Dump, got: Facts, opts: Options) -> Facts:
    return system.local_facts(dump, opts.fact_path)[0]


def _one(fn: Callable[[Dump], Facts]) -> Collect:
    return lambda dump, got, opts: fn(dump)


def _with(fn: Callable[[Dump, Facts], Facts]) -> Collect:
    return lambda dump, got, opts: fn(dump, got)


def _ids(*names: str) -> frozenset[str]:
    return frozenset(names)


COLLECTORS: tuple[Collector, ...] = (
    Collector(
        "platform",
        _one(system.platform_facts),
        _ids("system", "kernel", "kernel_version", "machine", "python_version", "architecture",
             "machine_id"),
    ),
    Collector(
        "distribution",
        lambda dump, got, opts: distribution.distribution_facts(dump, system.uname(dump)[0]),
        _ids("distribution_version", "distribution_release", "distribution_major_version",
             "os_family"),
    ),
    Collector("lsb", _one(distribution.lsb_facts)),
    Collector("selinux", _one(system.selinux_facts)),
    Collector("apparmor", _one(system.apparmor_facts)),
    Collector("chroot", _one(system.chroot_facts), _ids("is_chroot")),
    Collector("fips", _one(system.fips_facts)),
    Collector("python", _one(system.python_facts)),
    Collector(
        "caps",
        _one(system.caps_facts),
        _ids("system_capabilities", "system_capabilities_enforced"),
    ),
    Collector("pkg_mgr", _with(services.pkg_mgr_facts), requires=_ids("distribution")),
    Collector(
        "service_mgr", _with(services.service_mgr_facts), requires=_ids("distribution", "platform")
    ),
    Collector("cmdline", _one(system.cmdline_facts)),
    Collector("date_time", _one(system.date_time_facts)),
    Collector("env", _one(system.env_facts)),
    Collector("loadavg", _one(system.loadavg_facts)),
    Collector(
        "ssh_pub_keys",
        _one(system.ssh_pub_key_facts),
        _ids("ssh_host_pub_keys", "ssh_host_key_dsa_public", "ssh_host_key_rsa_public",
             "ssh_host_key_ecdsa_public", "ssh_host_key_ed25519_public"),
    ),
    Collector(
        "user",
        _one(system.user_facts),
        _ids("user_id", "user_uid", "user_gid", "user_gecos", "user_dir", "user_shell",
             "real_user_id", "effective_user_id", "effective_group_ids"),
    ),
    Collector("systemd", _one(services.systemd_facts)),
    Collector(
        "virtual",
        _one(virt.virtual_facts),
        _ids("virtualization_type", "virtualization_role", "virtualization_tech_guest",
             "virtualization_tech_host"),
    ),
    Collector(
        "hardware",
        _hardware,
        _ids("processor", "processor_cores", "processor_count", "mounts", "devices"),
        requires=_ids("platform"),
    ),
    Collector("dns", _one(system.dns_facts)),
    Collector("fibre_channel_wwn", _one(system.fc_wwn_facts)),
    Collector(
        "network",
        _with(network.network_facts),
        _ids("interfaces", "default_ipv4", "default_ipv6", "all_ipv4_addresses",
             "all_ipv6_addresses"),
        requires=_ids("distribution", "platform"),
    ),
    Collector("iscsi", _one(system.iscsi_facts)),
    Collector("nvme", _one(system.nvme_facts)),
    Collector("local", _local),
    Collector("facter", lambda dump, got, opts: {}, _ids("facter")),
    Collector("ohai", lambda dump, got, opts: {}),
)  # fmt: skip
"""In an order that satisfies every collector's dependencies (Ansible tsorts them)."""

MINIMAL = frozenset(
    {
        "apparmor", "caps", "cmdline", "date_time", "distribution", "dns", "env", "fips",
        "local", "lsb", "pkg_mgr", "platform", "python", "selinux", "service_mgr",
        "ssh_pub_keys", "user",
    }
)  # fmt: skip
"""The setup module's minimal_gather_subset: collected even for gather_subset: '!all'."""

BY_NAME: dict[str, list[Collector]] = {}
ALIASES: dict[str, set[str]] = {}
for _c in COLLECTORS:
    BY_NAME.setdefault(_c.name, []).append(_c)
    for _fact in _c.fact_ids:
        BY_NAME.setdefault(_fact, []).append(_c)
        ALIASES.setdefault(_c.name, set()).add(_fact)
VALID_SUBSETS = frozenset(BY_NAME)
"""Every word gather_subset accepts (besides all/min and their negations)."""


class SubsetError(ValueError):
    """A gather_subset word Ansible refuses (its message)."""


def collector_names(gather_subset: Iterable[str]) -> set[str]:
    """Ansible's get_collector_names: the names a gather_subset spec selects."""
    additional: set[str] = set()
    exclude: set[str] = set()
    explicit: set[str] = set()
    for word in ["min", *(list(gather_subset) or ["all"])]:
        if word == "min":
            additional |= MINIMAL
            continue
        if word == "all":
            additional |= VALID_SUBSETS
            continue
        if word.startswith("!"):
            name = word[1:]
            if name == "min":
                exclude |= MINIMAL
            elif name == "all":
                exclude |= VALID_SUBSETS - MINIMAL
            else:
                exclude |= ALIASES.get(name, set())
                exclude.add(name)
            continue
        if word not in VALID_SUBSETS:
            raise SubsetError(
                f"Bad subset '{word}' given to Ansible. gather_subset options allowed:"
                f" all, {', '.join(sorted(VALID_SUBSETS))}"
            )
        explicit.add(word)
        additional.add(word)
    if not additional:
        additional = set(VALID_SUBSETS)
    return additional - (exclude - explicit)


def selected(gather_subset: Iterable[str]) -> list[Collector]:
    """The collectors a spec runs, with the ones they depend on, in COLLECTORS order."""
    names = collector_names(gather_subset)
    while True:
        missing = {
            need
            for name in names
            for c in BY_NAME[name]
            for need in c.requires
            if need not in names
        }
        if not missing:
            break
        names |= missing
    chosen = {id(c) for name in names for c in BY_NAME[name]}
    return [c for c in COLLECTORS if id(c) in chosen]


SCRIPT_PARTS = frozenset({"hardware", "network", "virtual"})


def script_parts(gather_subset: Iterable[str]) -> frozenset[str]:
    """The fact script's optional parts a spec's collectors read (SubsetError if bad)."""
    return frozenset(c.name for c in selected(list(gather_subset) or ["all"])) & SCRIPT_PARTS


def _matches(key: str, patterns: list[str]) -> bool:
    if not patterns or patterns == ["*"]:
        return True
    for pattern in patterns:
        if not pattern or fnmatch(key, pattern):
            return True
        if not pattern.startswith(("ansible_", "facter", "ohai")) and fnmatch(
            key, f"ansible_{pattern}"
        ):
            return True
    return False


def setup_facts(
    dump: Dump,
    *,
    gather_subset: Iterable[str] = ("all",),
    filter_spec: Iterable[str] = (),
    options: Options = Options(),
) -> Facts:
    """The setup module's `ansible_facts` for the dump: `ansible_`-prefixed, filtered.

    `discovered_interpreter_python` is added (unprefixed, never filtered) when the
    script discovered the interpreter, as Ansible adds it to the first task's result.
    """
    subset = list(gather_subset) or ["all"]
    patterns = [str(p) for p in filter_spec]
    collected: Facts = {}
    out: Facts = {}
    for collector in selected(subset):
        try:
            facts = collector.collect(dump, collected, options)
        except (ValueError, KeyError, IndexError, TypeError, ZeroDivisionError):
            facts = {}  # Ansible's collector raised: its facts are left out, the rest stays
        collected.update(facts)
        for key, value in facts.items():
            name = f"ansible_{key.replace('-', '_')}"  # Ansible's PrefixFactNamespace
            if _matches(name, patterns):
                out[name] = value
    meta: Facts = {"gather_subset": subset, "module_setup": True}
    out.update({k: v for k, v in meta.items() if _matches(k, patterns)})
    found = dump.value("discovered_interpreter_python")
    if found:
        out["discovered_interpreter_python"] = found
    return out


def namespaced(module_facts: Mapping[str, Any]) -> Facts:
    """ansible_facts as hostvars hold it: `ansible_` stripped (ansible_local kept)."""
    return {
        (k[8:] if k.startswith("ansible_") and k != "ansible_local" else k): v
        for k, v in module_facts.items()
    }
