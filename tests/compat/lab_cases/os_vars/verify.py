"""testinfra checks for the os_vars case."""

from typing import Any


def test_family_vars(host: Any) -> None:
    content = host.file("/srv/fkcompat/os_vars/os").content_string
    assert "family=Debian pkg=apt conf=/etc/default" in content
    assert "release=bookworm distro=Debian 12" in content
    assert host.file("/srv/fkcompat/os_vars/debian-only").exists
    assert not host.file("/srv/fkcompat/os_vars/redhat-only").exists
