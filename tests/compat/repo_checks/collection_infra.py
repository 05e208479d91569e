"""collection_infra: a collection on disk (roles, a module with module_utils, a redirect)
used by short names through `collections:` and by FQCN; modules with no native version."""

from __future__ import annotations

import json
from typing import Any

from tests.compat.repo_checks.footprint import Footprint

ROOT = "/srv/fkrepo/collection_infra"
FOOTPRINT = Footprint(made=(ROOT,))


def test_kv_file(host: Any) -> None:
    conf = host.file(f"{ROOT}/etc/app.conf")
    assert conf.content_string == (
        "log_level = info\nworker_threads = 8\nmax_connections = 512\ninstance = blue\n"
    )
    assert conf.mode == 0o640


def test_registered_value(host: Any) -> None:
    value = json.loads(host.file(f"{ROOT}/registered.json").content_string)
    assert value["key"] == "instance"
    assert value["value"] == "blue"
    assert value["failed"] is False
    assert value["changed"] is True
    assert value["previous"] is None


def test_sites(host: Any) -> None:
    sites = host.file(f"{ROOT}/sites/sites.ini").content_string
    assert "[api]\nport = 8443\nupstream=127.0.0.1:9000\n" in sites
    assert host.file(f"{ROOT}/sites").mode == 0o750
    assert host.file(f"{ROOT}/sites/.reloaded").content_string == "api,admin\n"


def test_report(host: Any) -> None:
    assert host.file(f"{ROOT}/report").content_string.split() == [
        "role_name=baseline",
        "ansible_role_name=acme.infra.baseline",
        "collection=acme.infra",
        "instance=blue",
    ]


def test_fallback_modules(host: Any) -> None:
    limits = host.file(f"{ROOT}/etc/limits.conf").content_string
    assert "appsvc\thard\tnofile\t131072" in limits.replace(" ", "\t") or "131072" in limits
    assert (
        "git.example.internal ssh-ed25519"
        in host.file(f"{ROOT}/etc/ssh_known_hosts").content_string
    )
    assert host.file(f"{ROOT}/prealloc.img").size == 65536
