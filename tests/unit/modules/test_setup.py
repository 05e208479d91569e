"""setup: Ansible's fact names from the one fact script, gather_subset and filter honoured."""

from __future__ import annotations

import base64

import pytest
from tests.unit.modules.helpers import make_ctx

from fleetkit.executor.ansible_facts import ansible_facts, resolve_subsets
from fleetkit.executor.facts import FACTS_SCRIPT, parse_facts
from fleetkit.modules.args import prepare
from fleetkit.modules.base import ModuleResult
from fleetkit.modules.registry import lookup
from fleetkit.testing.fake_connection import FakeCall, FakeConnection

pytestmark = pytest.mark.unit

ENV = base64.b64encode(b"HOME=/home/fleet\0LANG=C.UTF-8\0").decode()
OUT = f"""hostname=lab1
fqdn=lab1.example.org
kernel=6.1.0-18-amd64
arch=x86_64
cpus=4
user=fleet
mem_total_kb=2048000
mem_available_kb=1024000
os_PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
os_NAME="Debian GNU/Linux"
os_VERSION_ID="12"
os_VERSION_CODENAME=bookworm
os_ID=debian
addr=eth0 198.18.0.2/15
nodename=lab1
kernel_version=#1 SMP Debian
system=Linux
ids=1000 1000
passwd=fleet:x:1000:1000:Fleet User,,,:/home/fleet:/bin/sh
date=1796283061 +0100 CET 520507802
debian_version=12.11
mem_free_kb=512000
swap_total_kb=0
swap_free_kb=0
cpuinfo=1 4 AMD EPYC
uptime=638.30
loadavg=1.34 0.57 0.25
pid1=systemd
pkg=apt-get
python=/usr/bin/python3 3 11 2 final 0 cpython
route4=default via 198.18.0.1 dev eth0
ifaddr=lo inet 127.0.0.1/8 scope host
ifaddr=eth0 inet 198.18.0.2/15 brd 198.19.255.255
ifaddr=eth0 inet6 fe80::1/64 scope link
link=eth0 02:42:ac:11:00:02 1500 0x1003 1
link=lo 00:00:00:00:00:00 65536 0x9 772
dns_ns=198.18.0.1
env={ENV}
"""


def fake_host() -> FakeConnection:
    def handle(call: FakeCall) -> tuple[int, str, str]:
        return (0, OUT, "") if call.command == FACTS_SCRIPT else (1, "", "unexpected")

    return FakeConnection("h1", handle)


def run(conn: FakeConnection, check: bool = False, **args: object) -> ModuleResult:
    mod = lookup("ansible.builtin.setup")
    assert mod is not None
    return mod.run(make_ctx("setup", args, conn, check=check))


def test_the_names_roles_read_have_ansibles_values_and_shapes() -> None:
    f = ansible_facts(OUT)
    assert (f["os_family"], f["distribution"], f["distribution_release"]) == (
        "Debian",
        "Debian",
        "bookworm",
    )
    assert f["distribution_version"] == "12.11" and f["distribution_major_version"] == "12"
    assert (f["architecture"], f["kernel"], f["hostname"], f["fqdn"]) == (
        "x86_64",
        "6.1.0-18-amd64",
        "lab1",
        "lab1.example.org",
    )
    assert f["default_ipv4"] == {
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
    assert f["all_ipv4_addresses"] == ["198.18.0.2"]
    assert f["memtotal_mb"] == 2000 and f["processor_vcpus"] == 4
    assert f["python_version"] == "3.11.2" and f["python"]["version_info"] == [3, 11, 2, "final", 0]
    assert (f["pkg_mgr"], f["service_mgr"], f["user_id"], f["user_uid"]) == (
        "apt",
        "systemd",
        "fleet",
        1000,
    )
    assert f["env"] == {"HOME": "/home/fleet", "LANG": "C.UTF-8"}
    assert f["user_gecos"] == "Fleet User" and f["user_dir"] == "/home/fleet"
    assert f["lo"]["type"] == "loopback" and f["eth0"]["ipv6"][0]["scope"] == "link"
    assert f["dns"] == {"nameservers": ["198.18.0.1"]}


def test_date_time_is_local_to_the_hosts_offset_and_iso8601_is_utc() -> None:
    d = ansible_facts(OUT)["date_time"]
    assert d["epoch"] == "1796283061" and d["tz"] == "CET" and d["tz_offset"] == "+0100"
    assert d["iso8601"].endswith("Z") and d["hour"] != d["iso8601"][11:13]


def test_the_fleetkit_facts_view_of_the_same_output_is_unchanged() -> None:
    facts = parse_facts(OUT)
    assert facts["os"]["id"] == "debian" and facts["cpus"] == 4 and facts["hostname"] == "lab1"


def test_setup_injects_ansible_facts_and_prefixed_names_in_one_round_trip() -> None:
    conn = fake_host()
    res = run(conn)
    assert not res.changed and not res.failed and len(conn.commands) == 1
    assert res.facts["ansible_os_family"] == "Debian"
    assert res.facts["ansible_facts"]["distribution"] == "Debian"
    assert res.facts["ansible_facts"]["gather_subset"] == ["all"]
    assert res.data["ansible_facts"]["memtotal_mb"] == 2000


def test_gather_subset_follows_ansibles_rules() -> None:
    assert resolve_subsets(["all"]) == {"min", "hardware", "network", "virtual"}
    assert resolve_subsets(["!all"]) == {"min"}
    assert resolve_subsets(["!all", "!min"]) == set()
    assert resolve_subsets(["network"]) == {"min", "network"}
    assert resolve_subsets(["!hardware"]) == {"min", "network", "virtual"}
    facts = run(fake_host(), gather_subset=["!all", "network"]).facts
    assert "ansible_default_ipv4" in facts and "ansible_distribution" in facts
    assert "ansible_memtotal_mb" not in facts


def test_filter_keeps_only_matching_names() -> None:
    facts = run(fake_host(), filter=["ansible_distribution*"]).facts["ansible_facts"]
    assert set(facts) - {"gather_subset", "module_setup"} == {
        "distribution",
        "distribution_version",
        "distribution_major_version",
        "distribution_minor_version",
        "distribution_release",
    }


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
