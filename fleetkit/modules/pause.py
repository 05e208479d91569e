"""pause: wait a number of seconds or minutes (no prompt: runs are non-interactive)."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any, ClassVar

from fleetkit.modules.base import Arg, Module, ModuleContext, ModuleResult


class Pause(Module):
    name = "pause"
    local = True
    args: ClassVar[dict[str, Arg]] = {
        "seconds": Arg("float"),
        "minutes": Arg("float"),
        "prompt": Arg("str"),
    }
    exclusive = (("seconds", "minutes"),)
    one_of = (("seconds", "minutes"),)

    def check_args(self, args: Mapping[str, Any]) -> list[str]:
        for key in ("seconds", "minutes"):
            value = args.get(key)
            if value is not None and value < 0:
                return [f"module pause: {key} must not be negative"]
        return []

    def run(self, ctx: ModuleContext) -> ModuleResult:
        seconds = ctx.arg("seconds")
        if seconds is None:
            seconds = float(ctx.arg("minutes")) * 60
        (ctx.sleep or time.sleep)(float(seconds))
        prompt = ctx.arg("prompt")
        return ModuleResult(msg=f"{prompt + ': ' if prompt else ''}paused {seconds:g}s")
