"""testinfra checks for the blocks case."""

from typing import Any


def test_rescued_state(host: Any) -> None:
    state = host.file("/srv/fkcompat/blocks/state")
    assert state.content_string == "rebuilt after read state rc=1\n"
    assert state.mode == 0o600


def test_fallback_and_always(host: Any) -> None:
    assert host.file("/srv/fkcompat/blocks/fallback").content_string == "fallback inner\n"
    assert host.file("/srv/fkcompat/blocks/always").exists
    assert not host.file("/srv/fkcompat/blocks/never").exists
    assert not host.file("/srv/fkcompat/blocks/skipped").exists
