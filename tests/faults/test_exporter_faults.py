"""The exporter under faults on lab hosts: a flapping host, a stuck host, scrapes while a
cycle runs (issue 11). The exporter must keep every other host's metrics fresh, leak no
thread or connection, and stop within its grace on SIGTERM."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from tests.faults import lab_faults
from tests.faults.lab_faults import Table
from tests.support import FLEETKIT

from fleetkit.inventory.load import load_inventory
from fleetkit.lab import LabState
from fleetkit.monitoring.cycle import Collection, Targets, open_pool
from fleetkit.monitoring.exporter import STOP_GRACE_S

pytestmark = [pytest.mark.integration, pytest.mark.faults]

FLAPS = 20


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def test_a_flapping_host_for_20_cycles_leaks_no_thread_or_connection(
    lab: LabState, fault_inventory: Path, outcomes: Table
) -> None:
    victim = lab.hosts[-1].name
    inv = load_inventory(fault_inventory)
    hosts = tuple(inv.hosts)
    with open_pool(inv, hosts, timeout=3.0) as pool:
        collection = Collection(Targets.from_inventory(inv, hosts), pool, timeout=3.0)
        for _ in range(2):
            assert all(h.up for h in collection.cycle().hosts)
        threads, fds = threading.active_count(), _open_fds()
        victim_up: list[bool] = []
        others_up = True
        for i in range(FLAPS):
            if i % 2 == 0:
                with lab_faults.nft(victim, "reject"):
                    snap = collection.cycle()
                assert not snap.host(victim).up, f"cycle {i}: the victim is rejected"
            else:
                snap = collection.cycle()
            victim_up.append(snap.host(victim).up)
            others_up = others_up and all(h.up for h in snap.hosts if h.host != victim)
        deadline = time.monotonic() + 60
        while not collection.cycle().host(victim).up:  # back after its backoff
            assert time.monotonic() < deadline, f"{victim} did not come back"
            time.sleep(0.5)
        after_threads, after_fds = threading.active_count(), _open_fds()
    assert others_up
    assert any(victim_up[1::2]), "the victim never came back between faults"
    assert after_threads <= threads + 1, (threads, after_threads)
    assert after_fds <= fds + 2, (fds, after_fds)
    outcomes.add(
        f"exporter: the victim's SSH reset every other cycle for {FLAPS} cycles",
        f"down in every faulty cycle, up in {sum(victim_up[1::2])}/{FLAPS // 2} clear ones"
        f" (backoff), others always up; threads {threads}->{after_threads},"
        f" fds {fds}->{after_fds}",
    )


class Exporter:
    """A `fleetkit exporter` process on 127.0.0.1 (a free port), its stderr drained."""

    def __init__(self, inventory: Path, interval: float, timeout: float) -> None:
        self.proc = subprocess.Popen(
            [
                *FLEETKIT, "exporter", "-i", str(inventory), "--listen", "127.0.0.1:0",
                "--interval", str(interval), "--timeout", str(timeout),
            ],
            stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        self.log: list[str] = []
        self.url = ""
        assert self.proc.stderr is not None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = self.proc.stderr.readline()
            self.log.append(line)
            found = re.search(r"listening on (http://127\.0\.0\.1:\d+)", line)
            if found:
                self.url = found.group(1) + "/metrics"
            if "cycle 1:" in line:
                break
        assert self.url, "".join(self.log)
        self._drain = threading.Thread(target=self._read, daemon=True)
        self._drain.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.log.append(line)

    def scrape(self) -> dict[str, dict[str, float]]:
        """{metric: {host: value}} of the host series in one scrape."""
        with urllib.request.urlopen(self.url, timeout=5) as response:
            assert response.status == 200
            text = response.read().decode()
        out: dict[str, dict[str, float]] = {}
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if "host" in sample.labels and sample.name.startswith("fleetkit_host_"):
                    out.setdefault(sample.name, {})[sample.labels["host"]] = sample.value
        return out

    def stop(self) -> tuple[int, float]:
        start = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        rc = self.proc.wait(60)
        return rc, time.monotonic() - start

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self._drain.join(10)  # EOF once the process is gone
        if self.proc.stderr is not None:
            self.proc.stderr.close()


@pytest.fixture
def exporter(fault_inventory: Path) -> Iterator[Exporter]:
    exp = Exporter(fault_inventory, interval=2, timeout=2)
    try:
        yield exp
    finally:
        exp.kill()


def test_a_stuck_host_keeps_the_others_fresh_and_sigterm_stops_within_the_grace(
    lab: LabState, exporter: Exporter, outcomes: Table
) -> None:
    victim = lab.hosts[-1].name
    others = [h.name for h in lab.hosts[:-1]]
    first = exporter.scrape()["fleetkit_host_last_collect_timestamp_seconds"]
    with lab_faults.frozen(victim):  # listener and the exporter's open session
        seen: list[dict[str, dict[str, float]]] = []
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            seen.append(exporter.scrape())
            time.sleep(1)
        last = seen[-1]
        fresh = {h: last["fleetkit_host_last_collect_timestamp_seconds"][h] for h in others}
        assert all(fresh[h] > first[h] + 6 for h in others), (first, fresh)
        assert last["fleetkit_host_up"][victim] == 0
        assert all(last["fleetkit_host_up"][h] == 1 for h in others)
        assert all(set(s["fleetkit_host_up"]) == {victim, *others} for s in seen)
        rc, took = exporter.stop()  # while the victim is still stuck
    log = "".join(exporter.log)
    assert rc == 0, log[-2000:]
    assert took < STOP_GRACE_S + 5, took
    assert "Traceback" not in log
    advanced = min(fresh[h] - first[h] for h in others)
    outcomes.add(
        "exporter: the victim's sshd and the exporter's session frozen (interval 2, timeout 2)",
        f"victim up 0, others' last collect advanced {advanced:.0f}s"
        f" in 20 s, every scrape complete; SIGTERM while stuck: exit {rc} in {took:.1f}s",
    )


def test_scrapes_during_cycles_are_always_complete(
    lab: LabState, exporter: Exporter, outcomes: Table
) -> None:
    hosts = {h.name for h in lab.hosts}
    n, start = 0, time.monotonic()
    while time.monotonic() - start < 8:  # four cycles at interval 2
        got = exporter.scrape()
        assert set(got["fleetkit_host_up"]) == hosts
        assert all(v == 1 for v in got["fleetkit_host_up"].values())
        assert set(got["fleetkit_host_memory_total_bytes"]) == hosts
        n += 1
    outcomes.add(
        "exporter: scrapes back to back while cycles run",
        f"{n} scrapes in 8 s, every one 200 with every host's series",
    )
