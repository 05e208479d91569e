"""apply_symbolic: chmod's symbolic modes as ansible-core applies them (values taken from
ansible-core 2.19 on the same inputs; tests/compat/test_symbolic_modes.py compares a grid)."""

from __future__ import annotations

import pytest

from fleetkit.modules.remote import apply_symbolic, parse_stat, resolve_mode

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("start", "spec", "is_dir", "want"),
    [
        (0o644, "u=rw,g=r,o=", False, 0o640),
        (0o600, "u+x,g+rx,o+r", False, 0o754),
        (0o755, "go-wx", False, 0o744),
        (0o640, "a+X", False, 0o640),
        (0o750, "a+X", False, 0o751),
        (0o640, "a+X", True, 0o751),
        (0o640, "g=u", False, 0o660),
        (0o604, "u=rwx,g=o,o-r", False, 0o740),
        (0o740, "u=rwx,g=o,o-r", False, 0o700),
        (0o644, "u+s,g+s,o+t", False, 0o7644),
        (0o777, "u=rw-x+X,g=r-x+X,o=r-x+X", False, 0o755),
        (0o4755, "u=rw", False, 0o655),
        (0o1777, "o=rx", True, 0o775),
    ],
)
def test_symbolic_modes(start: int, spec: str, is_dir: bool, want: int) -> None:
    assert apply_symbolic(start, spec, is_dir=is_dir) == want


def test_no_user_class_means_all_less_the_umask() -> None:
    assert apply_symbolic(0, "=rw", umask=0o022) == 0o644
    assert apply_symbolic(0, "+rwx", umask=0o027) == 0o750
    assert apply_symbolic(0o777, "-w", umask=0o022) == 0o577


def test_the_hosts_umask_comes_with_the_stat() -> None:
    st = parse_stat("U:0027\nT:file\nS:644 0 0 root root 3\n")
    assert st.umask == 0o027
    assert resolve_mode(st.mode, "+x", umask=st.umask) == 0o754
    assert parse_stat("U:0002\nT:missing\n").umask == 0o002


@pytest.mark.parametrize("spec", ["z+x", "u*r", "u+q", "rw"])
def test_malformed_modes(spec: str) -> None:
    with pytest.raises(ValueError, match="bad symbolic permission"):
        apply_symbolic(0o644, spec)
