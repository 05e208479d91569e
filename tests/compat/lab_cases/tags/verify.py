"""testinfra checks for the tags case (run with --tags config,users --skip-tags slow)."""

from typing import Any


def test_selected(host: Any) -> None:
    for name in ("conf", "extra", "users"):
        assert host.file(f"/srv/fkcompat/tags/{name}").exists, name


def test_not_selected(host: Any) -> None:
    for name in ("slow-users", "slow-conf", "untagged", "never", "other"):
        assert not host.file(f"/srv/fkcompat/tags/{name}").exists, name
