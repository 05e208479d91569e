"""testinfra checks for the tuning case."""

from typing import Any


def test_sysctl(host: Any) -> None:
    assert host.sysctl("net.ipv4.tcp_keepalive_intvl") == 31
    assert host.sysctl("net.ipv4.tcp_keepalive_probes") == 7
    conf = host.file("/srv/fkcompat/tuning/sysctl.conf").content_string
    assert "net.ipv4.tcp_keepalive_probes=7" in conf
