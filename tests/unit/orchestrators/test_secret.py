"""Secret: the value reaches only the code that reveals it."""

from __future__ import annotations

import json
import pickle

import pytest

from fleetkit.orchestrators.base import Secret


def test_a_secret_prints_masked_everywhere() -> None:
    s = Secret("SWMTKN-1-abc")
    for shown in (str(s), repr(s), f"{s}", json.dumps({"t": s}, default=str)):
        assert "SWMTKN" not in shown
    assert s.reveal() == "SWMTKN-1-abc"


def test_a_secret_cannot_be_pickled() -> None:
    with pytest.raises(TypeError):
        pickle.dumps(Secret("x"))


def test_an_empty_secret_is_false() -> None:
    assert not Secret("") and Secret("x")
