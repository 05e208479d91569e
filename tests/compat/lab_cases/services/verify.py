"""testinfra checks for the services case."""

from typing import Any


def test_app(host: Any) -> None:
    app = host.service("fkc_services_app")
    assert app.is_enabled
    assert app.is_running


def test_idle(host: Any) -> None:
    idle = host.service("fkc_services_idle")
    assert not idle.is_enabled
    assert not idle.is_running
