"""Symbolic file modes: fleetkit's apply_symbolic against ansible-core 2.19's own
_symbolic_mode_to_octal, in this process, on every start mode of a grid, for files and
directories and two umasks."""

from __future__ import annotations

import os
import stat
from types import SimpleNamespace

import pytest

from fleetkit.modules.remote import apply_symbolic

pytestmark = pytest.mark.compat

MODES = [
    "u=rw,g=r,o=",
    "u+x,g+rx,o+r",
    "go-wx",
    "a+X",
    "g=u",
    "u=rwx,g=o,o-r",
    "u+s,g+s,o+t",
    "u=rw-x+X,g=r-x+X,o=r-x+X",
    "ug=rw,o=r",
    "=rw",
    "+x",
    "-w",
    "o=u,u=",
    "a=",
    "u=g,g=o,o=u",
    "+t,g-s",
    "u=rwxs,o=t",
]
STARTS = [0o000, 0o600, 0o644, 0o640, 0o700, 0o755, 0o750, 0o777, 0o4755, 0o2770, 0o1777]


@pytest.mark.parametrize("umask", [0o022, 0o027])
@pytest.mark.parametrize("is_dir", [False, True])
def test_symbolic_modes_are_ansibles(umask: int, is_dir: bool) -> None:
    from ansible.module_utils.basic import AnsibleModule

    old = os.umask(umask)
    try:
        for spec in MODES:
            for start in STARTS:
                kind = stat.S_IFDIR if is_dir else stat.S_IFREG
                st = SimpleNamespace(st_mode=kind | start)
                want = AnsibleModule._symbolic_mode_to_octal(st, spec)
                got = apply_symbolic(start, spec, is_dir=is_dir, umask=umask)
                assert got == want, (spec, oct(start), is_dir, oct(want), oct(got))
    finally:
        os.umask(old)


@pytest.mark.parametrize("spec", ["z+x", "u*r", "u+q", "rw", "ua+x"])
def test_malformed_modes_are_refused_by_both(spec: str) -> None:
    from ansible.module_utils.basic import AnsibleModule

    st = SimpleNamespace(st_mode=stat.S_IFREG | 0o644)
    with pytest.raises(ValueError):
        AnsibleModule._symbolic_mode_to_octal(st, spec)
    with pytest.raises(ValueError):
        apply_symbolic(0o644, spec)
