"""testinfra checks for the precedence case."""

from typing import Any


def test_report(host: Any) -> None:
    report = host.file("/srv/fkcompat/precedence/report").content_string
    assert "default=play-beats-default\n" in report
    assert "play=role-vars-beat-play\n" in report
    assert "extra=cli\n" in report
    assert "inventory=from-inventory\n" in report
