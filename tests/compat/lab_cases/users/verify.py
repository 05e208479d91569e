"""testinfra checks for the users case."""

from typing import Any


def test_groups(host: Any) -> None:
    assert host.group("fkc_users_dev").gid == 23101
    assert host.group("fkc_users_ops").gid == 23102


def test_users(host: Any) -> None:
    bob = host.user("fkc_users_bob")
    assert bob.uid == 23112
    assert bob.shell == "/bin/sh"
    assert set(bob.groups) >= {"fkc_users_dev", "fkc_users_ops"}
    assert bob.home == "/srv/fkcompat/users/home/fkc_users_bob"
    assert host.user("fkc_users_carol").shell == "/usr/sbin/nologin"


def test_notes(host: Any) -> None:
    note = host.file("/srv/fkcompat/users/home/fkc_users_alice/NOTE")
    assert note.user == "fkc_users_alice"
    assert note.mode == 0o600
    assert not host.file("/srv/fkcompat/users/home/fkc_users_carol/NOTE").exists
