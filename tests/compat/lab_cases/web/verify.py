"""testinfra checks for the web case."""

from typing import Any


def test_config(host: Any) -> None:
    conf = host.file("/srv/fkcompat/web/web.conf")
    assert conf.mode == 0o644
    assert "listen 9090;" in conf.content_string
    assert "user www-data;" in conf.content_string


def test_sites(host: Any) -> None:
    alpha = host.file("/srv/fkcompat/web/sites/alpha.conf")
    assert alpha.mode == 0o640
    assert "server_name alpha a.example alpha.example;" in alpha.content_string
    assert host.file("/srv/fkcompat/web/sites").mode == 0o750


def test_handler_ran_once(host: Any) -> None:
    assert host.file("/srv/fkcompat/web/reloaded").content_string == "reloaded for 2 sites\n"
