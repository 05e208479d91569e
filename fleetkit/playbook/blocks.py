"""Per-host block state: which tasks of block/rescue/always a host runs after a failure.

Tasks carry their enclosing blocks as frames (outermost first). A failure in a
block's `block:` section sends the host to its `rescue:` (the failure is then
counted as rescued, not failed), or, with no rescue, through its `always:` and
on to the enclosing block; a failure in `rescue:` goes through `always:` and on.
A failure that leaves the outermost block fails the host, as in Ansible.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from fleetkit.playbook.schema import Frame

State = Literal["failed", "rescue_failed", "always_failed"]


@dataclass
class BlockState:
    """One host's block bookkeeping (only its own worker writes it)."""

    states: dict[int, State] = field(default_factory=dict)
    pending: dict[int, tuple[Frame, ...]] = field(default_factory=dict)
    """Blocks whose failure re-raises when the host leaves them (after always:)."""

    def runs(self, frames: tuple[Frame, ...]) -> bool:
        """Whether a task inside these frames runs on the host."""
        for frame in frames:
            state = self.states.get(frame.block)
            if frame.section == "block" and state is not None:
                return False
            if frame.section == "rescue" and state != "failed":
                return False
            if frame.section == "always" and state == "always_failed":
                return False
        return True

    def leave(self, frames: tuple[Frame, ...] | None) -> bool | None:
        """The host moves on to a task in frames (None: the end of the play).

        Re-raises the failures of the blocks it leaves: True the host is now failed,
        False an enclosing rescue took the failure, None nothing happened.
        """
        inside = {f.block for f in frames or ()}
        verdict: bool | None = None
        for block in sorted((b for b in self.pending if b not in inside), reverse=True):
            if block not in self.pending:
                continue
            outer = self.pending.pop(block)
            got = self.fail(outer)
            if got is not None:
                verdict = got or bool(verdict)
        return verdict

    def fail(self, frames: tuple[Frame, ...]) -> bool | None:
        """A task in frames failed: True the host fails now, False rescued, None deferred
        (an always: runs first)."""
        for depth in range(len(frames) - 1, -1, -1):
            frame = frames[depth]
            if frame.section == "block":
                self.states[frame.block] = "failed"
                if frame.rescue:
                    return False
            elif frame.section == "rescue":
                self.states[frame.block] = "rescue_failed"
            else:
                self.states[frame.block] = "always_failed"
                self.pending.pop(frame.block, None)
                continue
            if frame.always:
                self.pending[frame.block] = frames[:depth]
                return None
        return True
