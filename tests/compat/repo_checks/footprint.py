"""What a repository of tests/compat/repos/ changes on a host: snapshotted, then undone."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Footprint:
    """The state a repository makes or edits on its host.

    made: files and folders the repository creates (snapshotted with their content,
    mode and owner, removed afterwards); edited: files that exist on every host and that
    the repository edits in place (snapshotted, restored afterwards from a saved copy);
    users and groups it creates (compared as getent and `id` read them, then deleted);
    units: systemd unit names whose enabled/running state is compared; prepare: a shell
    script run as root on both hosts before the first run, giving the hosts the state a
    real host would already have (a user to retire, a binary the distribution ships).
    undo: shell run afterwards, before the removals.
    """

    made: tuple[str, ...]
    edited: tuple[str, ...] = ()
    users: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    units: tuple[str, ...] = ()
    prepare: str = ""
    undo: str = ""
    args: tuple[str, ...] = ()
