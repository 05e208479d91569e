"""Exporter shards: Prometheus' hashmod, --shard/--shard-slot, cluster metrics from shard 0,
file_sd targets, the sharded Prometheus config (promtool) and the Swarm shard playbook."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from fleetkit.cli import main
from fleetkit.errors import UsageError
from fleetkit.inventory.load import load_inventory
from fleetkit.monitoring.cycle import Collection, Targets
from fleetkit.monitoring.shard import Shard, expand_targets, file_sd_groups, hashmod
from fleetkit.testing.fake_connection import FakeConnection

from .conftest import FakeFleet
from .helpers import probe_answer, swarm_answer

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[3]
PROM = ROOT / "prometheus"

# md5(value)[8:16] as a big-endian uint64, as Prometheus' relabel.go computes it
# (computed once with hashlib and written down here, so a change of algorithm fails).
VECTORS = [
    ("lab1", 2930064743084965326),
    ("lab2", 5821344720500356452),
    ("lab3", 868171723949247532),
    ("web01.example.com", 2720094798014309717),
    ("", 16825458760271544958),
    ("node-7", 13537756451657044326),
]


@pytest.mark.parametrize(("value", "u64"), VECTORS)
def test_hashmod_is_prometheus_md5_last_8_bytes_big_endian(value: str, u64: int) -> None:
    for modulus in (1, 2, 3, 10, 1 << 40):
        assert hashmod(value, modulus) == u64 % modulus


def test_hashmod_pinned_shard_numbers() -> None:
    assert [hashmod(v, 3) for v, _ in VECTORS] == [0, 0, 1, 2, 1, 0]
    assert [hashmod(v, 10) for v, _ in VECTORS] == [6, 2, 2, 7, 8, 6]


def test_shards_partition_the_hosts_exactly() -> None:
    hosts = [f"host{i:03d}" for i in range(300)]
    for n in (1, 2, 3, 7):
        parts = [Shard(i, n).select(hosts) for i in range(n)]
        assert sorted(h for p in parts for h in p) == sorted(hosts)
        assert sum(len(p) for p in parts) == len(hosts)
    assert all(len(Shard(i, 3).select(hosts)) > 60 for i in range(3))  # roughly balanced


def test_shard_forms_and_bad_values() -> None:
    assert Shard.parse("1/3") == Shard(1, 3)
    assert Shard.parse(" 0 / 1 ") == Shard(0, 1)
    assert Shard.from_slot("3/3") == Shard(2, 3)
    assert Shard.from_slot("1/2") == Shard(0, 2)
    assert Shard(0, 2).reports_cluster and not Shard(1, 2).reports_cluster
    for bad in ("3/3", "1", "a/b", "-1/2", "0/0"):
        with pytest.raises(UsageError):
            Shard.parse(bad)
    for bad in ("0/3", "4/3"):
        with pytest.raises(UsageError):
            Shard.from_slot(bad)


def test_file_sd_targets_from_a_template_or_a_list() -> None:
    assert expand_targets(["mon-{shard}:9469"], 3) == ["mon-0:9469", "mon-1:9469", "mon-2:9469"]
    assert expand_targets(["a:1", "b:2"], None) == ["a:1", "b:2"]
    assert expand_targets(["[::1]:9469"], None) == ["[::1]:9469"]
    for targets, shards in ((["a:1", "b:2"], 3), (["mon-{shard}:1"], None), (["nope"], None)):
        with pytest.raises(UsageError):
            expand_targets(targets, shards)
    groups = file_sd_groups(["a:1", "b:2"], {"env": "prod"})
    assert groups[1] == {"targets": ["b:2"], "labels": {"env": "prod", "shard": "1", "shards": "2"}}


def test_cli_file_sd_writes_the_targets_file(tmp_path: Path) -> None:
    out = tmp_path / "shards.yml"
    args = ["exporter", "file-sd", "--shards", "2", "mon-{shard}:9469", "--label", "dc=a"]
    assert main([*args, "-o", str(out)]) == 0
    groups = yaml.safe_load(out.read_text())
    assert [g["targets"] for g in groups] == [["mon-0:9469"], ["mon-1:9469"]]
    assert [g["labels"]["shard"] for g in groups] == ["0", "1"]
    assert main(["exporter", "file-sd", "a:1", "--shards", "2"]) == 2


def test_cli_exporter_still_needs_an_inventory() -> None:
    assert main(["exporter", "--once"]) == 2
    assert main(["exporter", "-i", "x", "--shard", "2/2", "--once"]) == 2
    assert main(["exporter", "-i", "x", "--shard", "0/2", "--shard-slot", "1/2"]) == 2


@pytest.fixture
def named_inventory(tmp_path: Path) -> Path:
    """Local hosts under names whose hashmod 2 is known: manager, web3 -> 0; web1, mgr -> 1."""
    inv = tmp_path / "hosts.yml"
    inv.write_text(
        "all:\n  vars:\n    ansible_connection: local\n  children:\n"
        "    managers:\n      hosts:\n        mgr: {}\n"
        "    workers:\n      hosts:\n        manager: {}\n        web1: {}\n        web3: {}\n"
    )
    return inv


def _hosts_in(text: str) -> set[str]:
    return {
        line.split('host="', 1)[1].split('"', 1)[0]
        for line in text.splitlines()
        if line.startswith("fleetkit_host_up{")
    }


def test_cli_union_of_two_shards_is_the_unsharded_exporter(
    named_inventory: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    got = []
    for shard in (None, "0/2", "1/2"):
        extra = [] if shard is None else ["--shard", shard]
        assert main(["exporter", "-i", str(named_inventory), "--once", *extra]) == 0
        got.append(_hosts_in(capsys.readouterr().out))
    whole, zero, one = got
    assert whole == {"mgr", "manager", "web1", "web3"}
    assert zero == {"manager", "web3"} and one == {"mgr", "web1"}
    assert zero | one == whole and not zero & one


def test_swarm_comes_from_shard_zero_even_when_the_manager_is_in_another(
    named_inventory: Path, fake_fleet: FakeFleet
) -> None:
    inventory = load_inventory(str(named_inventory))
    selected = ["mgr", "manager", "web1", "web3"]
    conns = {h: FakeConnection(h, probe_answer(swarm=swarm_answer())) for h in selected}
    zero_hosts, one_hosts = Shard(0, 2).select(selected), Shard(1, 2).select(selected)
    zero = Targets.from_inventory(inventory, zero_hosts, cluster_from=selected)
    one = Targets.from_inventory(inventory, one_hosts, cluster_from=())
    assert zero.managers == ("mgr",) and one.managers == ()
    snap0 = Collection(zero, fake_fleet(conns)).cycle()
    assert snap0.swarm is not None and snap0.swarm.source == "mgr"
    assert {h.host for h in snap0.hosts} == {"manager", "web3"}
    asked = [c.command for c in conns["mgr"].calls]
    assert len(asked) == 1 and "@@fk@@ proc" not in asked[0]  # a cluster question, no probe
    snap1 = Collection(one, fake_fleet(conns)).cycle()
    assert snap1.swarm is None and snap1.k8s is None
    assert {h.host for h in snap1.hosts} == {"mgr", "web1"}


PROMTOOL = shutil.which("promtool")


@pytest.mark.skipif(PROMTOOL is None, reason="promtool not installed (Debian package: prometheus)")
def test_promtool_checks_the_hashmod_sharded_config() -> None:
    assert PROMTOOL is not None
    out = subprocess.run(
        [PROMTOOL, "check", "config", "prometheus-hashmod.yml"],
        cwd=PROM,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert out.returncode == 0, out.stdout + out.stderr


def test_the_shipped_shard_targets_file_is_what_file_sd_writes(tmp_path: Path) -> None:
    shipped = PROM / "file_sd" / "fleetkit-exporter-shards.yml"
    out = tmp_path / "t.yml"
    assert (
        main(["exporter", "file-sd", "--shards", "3", "monitor-{shard}:9469", "-o", str(out)]) == 0
    )
    assert out.read_text() == shipped.read_text()
