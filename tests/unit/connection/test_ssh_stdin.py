"""SSH stdin goes out in bounded slices (paramiko's sendall is quadratic in its buffer)."""

from __future__ import annotations

import os
from typing import Any, cast

import paramiko
import pytest

from fleetkit.connection.ssh import STDIN_SLICE, _send_all

pytestmark = pytest.mark.unit


class RecordingChannel:
    def __init__(self) -> None:
        self.sent: list[bytes] = []

    def sendall(self, data: Any) -> None:
        assert isinstance(data, bytes)
        self.sent.append(data)


def test_stdin_is_sent_whole_in_slices_no_bigger_than_the_slice() -> None:
    data = os.urandom(3 * STDIN_SLICE + 5)
    chan = RecordingChannel()
    _send_all(cast(paramiko.Channel, chan), data)
    assert b"".join(chan.sent) == data
    assert [len(s) for s in chan.sent] == [STDIN_SLICE] * 3 + [5]
