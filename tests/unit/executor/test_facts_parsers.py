"""The fact collectors on canned host data: Ansible's names and values per family."""

from __future__ import annotations

from typing import Any

import pytest
from tests.unit.executor.distro_fixtures import FIXTURES

from fleetkit.executor.facts import (
    SubsetError,
    collector_names,
    injected,
    namespaced,
    parse_dump,
    setup_facts,
)
from fleetkit.executor.facts.dump import Dump
from fleetkit.testing.fake_facts import DEBIAN_OS_RELEASE, fact_output, python_probe

pytestmark = pytest.mark.unit

MINIMAL = {
    "apparmor", "caps", "cmdline", "date_time", "distribution", "dns", "env", "fips", "local",
    "lsb", "pkg_mgr", "platform", "python", "selinux", "service_mgr", "ssh_pub_keys", "user",
}  # fmt: skip


def dump(**kw: Any) -> Dump:
    kw.setdefault("python", python_probe())
    return parse_dump(fact_output(**kw))


def facts(subset: tuple[str, ...] = ("all",), **kw: Any) -> dict[str, Any]:
    return namespaced(setup_facts(dump(**kw), gather_subset=subset))


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_each_familys_files_give_ansibles_distribution_facts(name: str) -> None:
    fixture = FIXTURES[name]
    outputs = {"lsb_release": fixture.lsb_release} if fixture.lsb_release else {}
    values = {"bin:lsb_release": "/usr/bin/lsb_release"} if fixture.lsb_release else {}
    got = facts(files=fixture.files, outputs=outputs, values=values)
    for key, value in fixture.expect.items():
        assert got[key] == value, key


def test_lsb_comes_from_lsb_release_else_from_etc_lsb_release() -> None:
    ubuntu = FIXTURES["ubuntu2204"]
    assert facts(files=ubuntu.files)["lsb"] == {
        "codename": "jammy",
        "description": "Ubuntu 22.04.4 LTS",
        "id": "Ubuntu",
        "major_release": "22",
        "release": "22.04",
    }
    debian = FIXTURES["debian12"]
    got = facts(
        files=debian.files,
        outputs={"lsb_release": debian.lsb_release or ""},
        values={"bin:lsb_release": "/usr/bin/lsb_release"},
    )
    assert got["lsb"]["release"] == "12" and got["lsb"]["id"] == "Debian"
    assert facts(files={"/etc/os-release": DEBIAN_OS_RELEASE})["lsb"] == {}


def test_gather_subset_selects_ansibles_collectors() -> None:
    assert collector_names(["!all"]) == MINIMAL
    assert collector_names(["!all", "!min"]) == set()
    assert collector_names(["network"]) >= MINIMAL | {"network"}
    assert "network" not in collector_names(["!all"])
    # Ansible's own quirk: excluding one subset leaves only the minimal ones
    assert collector_names(["!hardware"]) == MINIMAL
    assert "hardware" in collector_names(["all", "!network"])
    assert "interfaces" in collector_names(["interfaces"])
    with pytest.raises(SubsetError, match="Bad subset 'netwrok' given to Ansible"):
        collector_names(["netwrok"])
    assert collector_names(["!netwrok"]) == MINIMAL  # an unknown exclusion is ignored


def test_a_subset_brings_the_collectors_it_depends_on() -> None:
    got = facts(
        ("!all", "!min", "network"),
        files={"/etc/os-release": DEBIAN_OS_RELEASE},
        values={"bin:ip": "/usr/sbin/ip"},
    )
    assert {"distribution", "os_family", "kernel", "interfaces"} <= set(got)
    assert "env" not in got and "lsb" not in got
    assert got["gather_subset"] == ["!all", "!min", "network"] and got["module_setup"] is True


def test_filter_matches_prefixed_names_and_adds_the_prefix() -> None:
    d = dump(files={"/etc/os-release": DEBIAN_OS_RELEASE})
    got = setup_facts(d, filter_spec=["ansible_distribution*"])
    assert set(got) == {
        "ansible_distribution",
        "ansible_distribution_file_parsed",
        "ansible_distribution_file_path",
        "ansible_distribution_file_variety",
        "ansible_distribution_major_version",
        "ansible_distribution_release",
        "ansible_distribution_version",
    }
    assert set(setup_facts(d, filter_spec=["os_family"])) == {"ansible_os_family"}
    assert "gather_subset" in setup_facts(d, filter_spec=["gather_*"])


def test_both_spellings_and_the_fact_cache_merge() -> None:
    module_facts = {"ansible_os_family": "Debian", "ansible_local": {}, "gather_subset": ["all"]}
    hostvars = injected(module_facts, {"distribution": "Old", "getent_passwd": {}})
    assert hostvars["ansible_os_family"] == "Debian" and hostvars["gather_subset"] == ["all"]
    assert hostvars["ansible_facts"] == {
        "distribution": "Old",
        "getent_passwd": {},
        "os_family": "Debian",
        "ansible_local": {},
        "gather_subset": ["all"],
    }


NET = {
    "route4": "8.8.8.8 via 198.18.0.1 dev eth0 src 198.18.0.2 uid 1000\n    cache\n",
    "route6": (2, ""),
    "addr_primary": """1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN
    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00
    inet 127.0.0.1/8 scope host lo
       valid_lft forever preferred_lft forever
    inet6 ::1/128 scope host
       valid_lft forever preferred_lft forever
2: eth0@if7: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP group default
    link/ether 02:42:ac:11:00:02 brd ff:ff:ff:ff:ff:ff link-netnsid 0
    inet 198.18.0.2/15 brd 198.19.255.255 scope global eth0
       valid_lft forever preferred_lft forever
    inet 10.1.0.5/24 scope global eth0:web
       valid_lft forever preferred_lft forever
    inet6 fe80::42:acff:fe11:2/64 scope link
       valid_lft forever preferred_lft forever
3: br-1a2b: <NO-CARRIER,BROADCAST,MULTICAST,UP> mtu 1500 qdisc noqueue state DOWN
    link/ether 02:42:11:22:33:44 brd ff:ff:ff:ff:ff:ff
""",
    "addr_secondary": """2: eth0@if7: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 state UP
    inet 198.18.0.9/15 scope global secondary eth0
       valid_lft forever preferred_lft forever
""",
    "local4": "local 127.0.0.0/8 dev lo proto kernel scope host src 127.0.0.1\n"
    "local 198.18.0.2 dev eth0 proto kernel scope host src 198.18.0.2\n",
    "local6": "local ::1 dev lo proto kernel metric 0 pref medium\n",
}


def _net_files() -> dict[str, str]:
    files: dict[str, str] = {}
    for dev, mac, mtu, state, kind, flags in (
        ("lo", "00:00:00:00:00:00", "65536", "unknown", "772", "0x9"),
        ("eth0", "02:42:ac:11:00:02", "1500", "up", "1", "0x1003"),
        ("br-1a2b", "02:42:11:22:33:44", "1500", "down", "1", "0x1103"),
    ):
        base = f"/sys/class/net/{dev}"
        files.update(
            {
                f"{base}/address": mac,
                f"{base}/mtu": mtu,
                f"{base}/operstate": state,
                f"{base}/type": kind,
                f"{base}/flags": flags,
            }
        )
    return files


def network_facts() -> dict[str, Any]:
    return facts(
        ("!all", "network"),
        files=_net_files(),
        dirs={
            "/sys/class/net": ["eth0", "lo", "br-1a2b"],
            "/sys/class/net/lo": [],
            "/sys/class/net/eth0": [],
            "/sys/class/net/br-1a2b": [],
            "/sys/class/net/br-1a2b/bridge": [],
            "/sys/class/net/br-1a2b/brif": [],
        },
        outputs=NET,
        values={"bin:ip": "/usr/sbin/ip"},
    )


def test_default_ipv4_is_the_route_to_8_8_8_8_completed_from_its_interface() -> None:
    got = network_facts()
    assert got["default_ipv4"] == {
        "address": "198.18.0.2",
        "alias": "eth0",
        "broadcast": "198.19.255.255",
        "gateway": "198.18.0.1",
        "interface": "eth0",
        "macaddress": "02:42:ac:11:00:02",
        "mtu": 1500,
        "netmask": "255.254.0.0",
        "network": "198.18.0.0",
        "prefix": "15",
        "type": "ether",
    }
    assert got["default_ipv6"] == {}


def test_interfaces_addresses_aliases_and_secondaries_as_ansible_shapes_them() -> None:
    got = network_facts()
    assert got["interfaces"] == ["eth0", "eth0_web", "lo", "br-1a2b"]
    assert got["all_ipv4_addresses"] == ["198.18.0.2", "10.1.0.5", "198.18.0.9"]
    assert got["all_ipv6_addresses"] == ["fe80::42:acff:fe11:2"]
    eth0 = got["eth0"]
    assert eth0["ipv4"]["address"] == "198.18.0.2" and eth0["active"] is True
    assert eth0["ipv4_secondaries"] == [
        {
            "address": "198.18.0.9",
            "broadcast": "",
            "netmask": "255.254.0.0",
            "network": "198.18.0.0",
            "prefix": "15",
        }
    ]
    assert got["eth0_web"] == {
        "ipv4": {
            "address": "10.1.0.5",
            "broadcast": "",
            "netmask": "255.255.255.0",
            "network": "10.1.0.0",
            "prefix": "24",
        }
    }
    assert "macaddress" not in got["lo"] and got["lo"]["type"] == "loopback"
    bridge = got["br_1a2b"]  # Ansible's fact names turn '-' into '_'
    assert bridge["type"] == "bridge" and bridge["active"] is False and bridge["promisc"] is True
    assert got["locally_reachable_ips"] == {
        "ipv4": ["127.0.0.0/8", "198.18.0.2"],
        "ipv6": ["::1"],
    }


def test_a_host_without_a_default_route_has_empty_defaults() -> None:
    outputs = dict(NET, route4=(2, ""))
    got = facts(
        ("!all", "network"),
        files=_net_files(),
        dirs={"/sys/class/net": ["eth0"], "/sys/class/net/eth0": []},
        outputs=outputs,
        values={"bin:ip": "/usr/sbin/ip"},
    )
    assert got["default_ipv4"] == {}
    assert got["all_ipv4_addresses"] == ["198.18.0.2", "10.1.0.5", "198.18.0.9"]


CPUINFO = "".join(
    f"processor\t: {n}\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R)\n"
    f"physical id\t: {n // 4}\nsiblings\t: 4\ncore id\t: {n % 2}\ncpu cores\t: 2\n"
    "flags\t\t: fpu vme de pse\n"
    for n in range(8)
)
MEMINFO = """MemTotal:        2048000 kB
MemFree:          512000 kB
MemAvailable:    1024000 kB
Buffers:           10240 kB
Cached:           204800 kB
SwapCached:            0 kB
SwapTotal:       1048576 kB
SwapFree:         524288 kB
"""


def test_processors_and_memory_as_ansible_counts_them() -> None:
    got = facts(
        ("!all", "hardware"),
        files={"/proc/meminfo": MEMINFO, "/proc/uptime": "638.30 1200.10"},
        outputs={"cpuinfo": CPUINFO},
        exists=["/proc/cpuinfo"],
    )
    assert (got["processor_count"], got["processor_cores"]) == (2, 2)
    assert (got["processor_threads_per_core"], got["processor_vcpus"]) == (2, 8)
    assert got["processor_nproc"] == 4  # the probe's sched_getaffinity
    assert got["processor"][:3] == ["0", "GenuineIntel", "Intel(R) Xeon(R)"]
    assert got["flags"] == ["fpu", "vme", "de", "pse"]
    assert (got["memtotal_mb"], got["memfree_mb"], got["swaptotal_mb"]) == (2000, 500, 1024)
    assert got["memory_mb"] == {
        "real": {"total": 2000, "used": 1500, "free": 500},
        "nocache": {"free": 710, "used": 1290},
        "swap": {"total": 1024, "free": 512, "used": 512, "cached": 0},
    }
    assert got["uptime_seconds"] == 638
    assert got["lvm"] == "N/A" and got["bios_vendor"] == "NA"


MTAB = r"""/dev/vda1 / ext4 rw,relatime 0 1
proc /proc proc rw,nosuid 0 0
tmpfs /run tmpfs rw,nosuid,size=100k 0 0
/dev/vda1 /srv/my\040data ext4 rw,relatime 0 2
/dev/vda1 /var/lib/docker ext4 rw,relatime 0 0
server:/export /mnt/nfs nfs4 rw,vers=4.2 0 0
"""


def test_mounts_are_devices_with_their_statfs_sizes_uuids_and_bind_flags() -> None:
    got = facts(
        ("!all", "hardware"),
        outputs={
            "mtab": MTAB,
            "statfs": "4096 1000 400 4096 500 300 /\n4096 1000 400 4096 500 300 /srv/my data\n",
            "lsblk": "/dev/vda\n/dev/vda1 0b9f6bd3-2c43-4e8a-9f5c-5a1e2d3c4b5a\n",
            "findmnt": "/var/lib/docker\n",
        },
    )
    mounts = {m["mount"]: m for m in got["mounts"]}
    assert list(mounts) == ["/", "/srv/my data", "/var/lib/docker", "/mnt/nfs"]
    root = mounts["/"]
    assert root["size_total"] == 4096 * 1000 and root["block_used"] == 600
    assert root["inode_used"] == 200 and root["uuid"] == "0b9f6bd3-2c43-4e8a-9f5c-5a1e2d3c4b5a"
    assert (root["dump"], root["passno"], root["fstype"]) == (0, 1, "ext4")
    assert mounts["/var/lib/docker"]["options"] == "rw,relatime,bind"
    assert "size_total" not in mounts["/mnt/nfs"] and mounts["/mnt/nfs"]["uuid"] == "N/A"


def test_block_devices_with_partitions_sizes_and_links() -> None:
    base = "/sys/block/vda"
    got = facts(
        ("!all", "hardware"),
        files={
            f"{base}/device/vendor": "0x1af4",
            f"{base}/removable": "0",
            f"{base}/queue/rotational": "1",
            f"{base}/queue/scheduler": "[mq-deadline] none",
            f"{base}/queue/logical_block_size": "512",
            f"{base}/queue/discard_max_hw_bytes": "2147483136",
            f"{base}/queue/discard_granularity": "512",
            f"{base}/size": "41943040",
            f"{base}/vda1/start": "2048",
            f"{base}/vda1/size": "41940992",
        },
        dirs={
            "/sys/block": ["vda"],
            base: ["device", "queue", "vda1", "size"],
            "/dev/disk/by-uuid": ["0b9f6bd3"],
        },
        links={
            base: "../devices/pci0000:00/0000:00:04.0/virtio1/block/vda",
            "/dev/disk/by-uuid/0b9f6bd3": "../../vda1",
        },
    )
    vda = got["devices"]["vda"]
    assert vda["size"] == "20.00 GB" and vda["sectors"] == 41943040
    assert vda["sectorsize"] == "512" and vda["scheduler_mode"] == "mq-deadline"
    assert vda["model"] is None and vda["vendor"] == "0x1af4" and vda["virtual"] == 1
    assert vda["support_discard"] == "512" and vda["host"] == ""
    part = vda["partitions"]["vda1"]
    assert part["start"] == "2048" and part["sectorsize"] == 512 and part["uuid"] == "0b9f6bd3"
    assert part["size"] == "20.00 GB" and part["links"]["uuids"] == ["0b9f6bd3"]
    assert got["device_links"]["uuids"] == {"vda1": ["0b9f6bd3"]}


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        (
            {"files": {"/proc/1/cgroup": "0::/system.slice/docker-ab12.scope\n"}},
            ("docker", "guest"),
        ),
        ({"exists": ["/.dockerenv"]}, ("docker", "guest")),
        ({"files": {"/sys/devices/virtual/dmi/id/product_name": "KVM"}}, ("kvm", "guest")),
        ({"files": {"/sys/devices/virtual/dmi/id/sys_vendor": "QEMU"}}, ("kvm", "guest")),
        ({"files": {"/run/systemd/container": "podman"}}, ("podman", "guest")),
        ({}, ("NA", "NA")),
    ],
)
def test_virtualization_type_and_role_take_the_first_match(
    host: dict[str, Any], expected: tuple[str, str]
) -> None:
    got = facts(("!all", "virtual"), **host)
    assert (got["virtualization_type"], got["virtualization_role"]) == expected


def test_docker_guests_are_containers_too() -> None:
    got = facts(("!all", "virtual"), exists=["/.dockerenv", "/dev/kvm"])
    assert got["virtualization_tech_guest"] == ["container", "docker"]
    assert got["virtualization_tech_host"] == ["kvm"]


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ({"files": {"/proc/1/comm": "systemd"}}, "systemd"),
        ({"files": {"/proc/1/comm": "tini"}}, "tini"),
        ({"files": {"/proc/1/comm": "runit-init"}}, "runit"),
        (
            {
                "files": {"/proc/1/comm": "init"},
                "exists": ["/run/systemd/system"],
                "values": {"bin:systemctl": "/usr/bin/systemctl"},
            },
            "systemd",
        ),
        ({"files": {"/proc/1/comm": "bash"}, "exists": ["/etc/init.d"]}, "sysvinit"),
        ({"files": {"/proc/1/comm": "init"}, "exists": ["/sbin/openrc"]}, "openrc"),
        ({"files": {"/proc/1/comm": "sh"}}, "service"),
    ],
)
def test_service_mgr_from_pid_1_then_the_init_systems_traces(
    host: dict[str, Any], expected: str
) -> None:
    assert facts(("!all",), **host)["service_mgr"] == expected


def test_pkg_mgr_is_the_familys_default() -> None:
    debian = facts(("!all",), files={"/etc/os-release": DEBIAN_OS_RELEASE})
    assert debian["pkg_mgr"] == "apt"
    rhel = FIXTURES["rhel93"].files
    got = facts(("!all",), files=rhel, exists=["/usr/bin/dnf", "/usr/bin/dnf-3", "/usr/bin/yum"])
    assert got["pkg_mgr"] == "dnf"
    fedora = facts(
        ("!all",),
        files=FIXTURES["fedora40"].files,
        exists=["/usr/bin/dnf", "/usr/bin/dnf5"],
        values={"realpath:/usr/bin/dnf": "/usr/bin/dnf5"},
    )
    assert fedora["pkg_mgr"] == "dnf5"
    alpine = facts(("!all",), files=FIXTURES["alpine319"].files, exists=["/sbin/apk"])
    assert alpine["pkg_mgr"] == "apk"
    suse = facts(("!all",), files=FIXTURES["sles15sp5"].files, exists=["/usr/bin/zypper"])
    assert suse["pkg_mgr"] == "zypper"


def test_user_platform_python_and_time_come_from_the_hosts_interpreter() -> None:
    got = facts(("!all",), files={"/etc/os-release": DEBIAN_OS_RELEASE})
    assert (got["user_id"], got["user_uid"], got["user_dir"]) == ("fleet", 1000, "/home/fleet")
    assert got["user_gecos"] == "Fleet User,,,"  # the whole field, as pwd gives it
    assert (got["hostname"], got["nodename"], got["fqdn"]) == ("web1", "web1", "web1.example.org")
    assert got["domain"] == "example.org" and got["userspace_bits"] == "64"
    assert got["python_version"] == "3.11.2"
    assert got["python"]["version_info"] == [3, 11, 2, "final", 0]
    assert got["date_time"]["tz"] == "CET" and got["date_time"]["tz_dst"] == "CEST"
    assert got["date_time"]["epoch"] == "1796283061"
    assert got["date_time"]["iso8601"] == "2026-12-03T07:31:01Z"
    assert got["date_time"]["hour"] == "08"  # local: +0100
    assert got["selinux"] == {"status": "disabled"} and got["selinux_python_present"] is True


def test_without_an_interpreter_the_shell_answers_the_same_questions() -> None:
    import base64

    env = base64.b64encode(b"HOME=/home/fleet\0USER=fleet\0").decode()
    got = facts(
        ("!all",),
        python=None,
        files={"/etc/os-release": DEBIAN_OS_RELEASE},
        values={
            "uname_snrm": "Linux web1 6.1.0-18-amd64 x86_64",
            "uname_v": "#1 SMP Debian",
            "ids": "1000 1000",
            "bits": "64",
            "login": "fleet",
            "date": "1796283061.25 CET +0100",
            "fqdn_name": "web1",
        },
        outputs={
            "env0": env,
            "passwd": "fleet:x:1000:1000:Fleet User,,,:/home/fleet:/bin/bash",
            "fqdn": "198.18.0.2      web1.lab web1",
        },
    )
    assert got["env"] == {"HOME": "/home/fleet", "USER": "fleet"}
    assert (got["user_id"], got["user_shell"], got["fqdn"]) == ("fleet", "/bin/bash", "web1.lab")
    assert got["kernel"] == "6.1.0-18-amd64" and got["date_time"]["epoch"] == "1796283061"
    assert "python" not in got and got["selinux_python_present"] is False


def test_local_facts_read_json_and_ini_files() -> None:
    got = facts(
        ("!all",),
        files={
            "/etc/ansible/facts.d/app.fact": '{"version": "1.2"}',
            "/etc/ansible/facts.d/site.fact": "[general]\nRole = web\n",
        },
        exists=["/etc/ansible/facts.d"],
    )
    assert got["ansible_local"] == {
        "app": {"version": "1.2"},
        "site": {"general": {"role": "web"}},
    }
