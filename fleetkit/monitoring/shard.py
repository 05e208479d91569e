"""Exporter shards: which hosts one of N exporters collects, by Prometheus' own `hashmod`.

Prometheus' relabel action `hashmod` (model/relabel/relabel.go) takes the md5 of
the source label value, reads the digest's last 8 bytes as a big-endian uint64 and
keeps it modulo N. fleetkit hashes each host's inventory name the same way, so
`fleetkit exporter --shard I/N` collects exactly the hosts a relabel rule
`hashmod` over `host` with `modulus: N` and `regex: I` would keep. Swarm and
Kubernetes cluster metrics come from shard 0 only, so they are never counted twice.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from fleetkit.errors import UsageError

_FORM = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")
SHARD_PLACEHOLDER = "{shard}"


def hashmod(value: str, modulus: int) -> int:
    """Prometheus' `hashmod`: md5(value), last 8 bytes big-endian, modulo `modulus`."""
    if modulus < 1:
        raise ValueError("hashmod needs a modulus of at least 1")
    digest = hashlib.md5(value.encode(), usedforsecurity=False).digest()
    return int.from_bytes(digest[8:], "big") % modulus


@dataclass(frozen=True)
class Shard:
    """Shard `index` (0-based) of `count` exporters."""

    index: int = 0
    count: int = 1

    @classmethod
    def parse(cls, text: str) -> Shard:
        """'I/N' with 0 <= I < N (`--shard`)."""
        index, count = _numbers(text, "--shard", "I/N, for example 0/2")
        if index >= count:
            raise UsageError(f"--shard {text!r}: shard index must be below {count} (0-based)")
        return cls(index, count)

    @classmethod
    def from_slot(cls, text: str) -> Shard:
        """'S/N' with a Swarm task slot 1 <= S <= N (`--shard-slot`): shard S-1 of N."""
        slot, count = _numbers(text, "--shard-slot", "S/N with the 1-based task slot S")
        if not 1 <= slot <= count:
            raise UsageError(f"--shard-slot {text!r}: the task slot must be 1..{count}")
        return cls(slot - 1, count)

    @property
    def reports_cluster(self) -> bool:
        """Whether this shard reports swarm and Kubernetes metrics (shard 0 only)."""
        return self.index == 0

    def keeps(self, host: str) -> bool:
        """Whether this shard collects `host` (by inventory name)."""
        return self.count == 1 or hashmod(host, self.count) == self.index

    def select(self, hosts: Iterable[str]) -> list[str]:
        """The hosts of this shard, in their order."""
        return [h for h in hosts if self.keeps(h)]

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def _numbers(text: str, option: str, form: str) -> tuple[int, int]:
    m = _FORM.match(text)
    if m is None:
        raise UsageError(f"{option} {text!r}: expected {form}")
    first, count = int(m.group(1)), int(m.group(2))
    if count < 1:
        raise UsageError(f"{option} {text!r}: the number of shards must be at least 1")
    return first, count


def expand_targets(targets: Sequence[str], shards: int | None) -> list[str]:
    """One ADDR:PORT per shard: the targets as given (shard i = the i-th), or one
    template containing '{shard}' expanded for shards 0..N-1."""
    if not targets:
        raise UsageError("file-sd: give at least one target ADDR:PORT")
    templated = [t for t in targets if SHARD_PLACEHOLDER in t]
    if templated:
        if len(targets) != 1 or shards is None:
            raise UsageError("file-sd: a '{shard}' target needs --shards N and no other target")
        return [targets[0].replace(SHARD_PLACEHOLDER, str(i)) for i in range(shards)]
    if shards is not None and shards != len(targets):
        raise UsageError(f"file-sd: --shards {shards} but {len(targets)} target(s) given")
    for t in targets:
        if ":" not in t.rsplit("]", 1)[-1]:
            raise UsageError(f"file-sd: target {t!r} is not ADDR:PORT")
    return list(targets)


def file_sd_groups(
    targets: Sequence[str], labels: Mapping[str, str] | None = None
) -> list[dict[str, Any]]:
    """Prometheus file_sd target groups: one per shard, labelled shard="I" and shards="N"."""
    count = len(targets)
    return [
        {
            "targets": [target],
            "labels": {**(labels or {}), "shard": str(i), "shards": str(count)},
        }
        for i, target in enumerate(targets)
    ]
