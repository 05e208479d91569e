"""testinfra checks for the delegate case."""

from typing import Any


def test_once(host: Any) -> None:
    assert host.file("/srv/fkcompat/delegate/once").content_string == "by node1 for node1,node2\n"


def test_delegated_and_registered(host: Any) -> None:
    for name in ("node1", "node2"):
        assert host.file(f"/srv/fkcompat/delegate/from-{name}").exists
        answer = host.file(f"/srv/fkcompat/delegate/answer-{name}").content_string
        assert answer == "helper-answer\n"
