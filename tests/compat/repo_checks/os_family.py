"""os_family: OS-family vars (include_vars by family, first_found by release), a templated
include of the family's setup, platform modules that `when:` skips on Debian."""

from __future__ import annotations

from typing import Any

from tests.compat.repo_checks.footprint import Footprint

ROOT = "/srv/fkrepo/os_family"
FOOTPRINT = Footprint(made=(ROOT,))


def test_family_settings(host: Any) -> None:
    text = host.file(f"{ROOT}/default-fkr-common").content_string
    assert "FAMILY=Debian (deb-based)" in text
    assert "RELEASE=bookworm: Debian 12 specifics" in text
    assert 'PACKAGES="ca-certificates tar curl gzip"' in text
    assert "PKG_MGR=apt" in text
    assert not host.file(f"{ROOT}/sysconfig-fkr-common").exists


def test_log_folder(host: Any) -> None:
    log = host.file(f"{ROOT}/log")
    assert log.mode == 0o2750
    assert log.group == "adm"


def test_nothing_kernel_side(host: Any) -> None:
    assert not host.file("/etc/sysctl.d/90-common.conf").exists
