"""reboot: reboot the host and wait until it is back, as Ansible's reboot does.

Sequence: read the boot id, run the reboot command (pre_reboot_delay in minutes
for shutdown), wait post_reboot_delay, reconnect until the boot id differs
(reboot_timeout), then run test_command. A dropped connection during the reboot
command is expected. Check mode reports the change without rebooting. Never
used on lab hosts (they share this machine's kernel); pinned on the fake.
"""

from __future__ import annotations

import time
from typing import ClassVar

from fleetkit.errors import ConnectionError as HostConnectionError
from fleetkit.modules.base import Arg, Module, ModuleContext, ModuleResult, fail
from fleetkit.modules.remote import q
from fleetkit.modules.wait_for_connection import wait_until

BOOT_ID = "cat /proc/sys/kernel/random/boot_id"
DEFAULT_MSG = "Reboot initiated by Ansible"


def reboot_command(ctx: ModuleContext) -> str:
    custom = ctx.arg("reboot_command")
    if custom:
        return str(custom)
    minutes = int(ctx.arg("pre_reboot_delay")) // 60
    msg = str(ctx.arg("msg"))
    return f"shutdown -r {minutes} {q(msg)}"


class Reboot(Module):
    name = "reboot"
    args: ClassVar[dict[str, Arg]] = {
        "pre_reboot_delay": Arg("int", default=0),
        "post_reboot_delay": Arg("int", default=0),
        "reboot_timeout": Arg("float", default=600.0),
        "connect_timeout": Arg("float", default=10.0),
        "test_command": Arg("str", default="whoami"),
        "msg": Arg("str", default=DEFAULT_MSG),
        "boot_time_command": Arg("str", default=BOOT_ID),
        "reboot_command": Arg("str"),
        "search_paths": Arg("list"),
    }

    def run(self, ctx: ModuleContext) -> ModuleResult:
        if ctx.check:
            return ModuleResult(changed=True, msg="would reboot", data={"rebooted": True})
        sleep = ctx.sleep or time.sleep
        start = time.monotonic()
        boot_cmd = str(ctx.arg("boot_time_command"))
        before = ctx.run(boot_cmd)
        if not before.ok or not before.stdout.strip():
            return fail(f"cannot read the boot id before rebooting: {before.stderr.strip()}")
        boot_id = before.stdout.strip()
        try:
            res = ctx.run(reboot_command(ctx))
            if not res.ok and res.rc not in (None, -1, 255):
                why = res.stderr.strip() or res.stdout.strip() or f"rc={res.rc}"
                return fail(f"reboot command failed: {why}", rc=res.rc, data={"rebooted": False})
        except HostConnectionError:
            pass  # the host went down under the command: what we asked for
        ctx.conn.close()
        if ctx.arg("post_reboot_delay"):
            sleep(float(ctx.arg("post_reboot_delay")))
        left = float(ctx.arg("reboot_timeout")) - (time.monotonic() - start)
        waited = wait_until(
            ctx,
            boot_cmd,
            timeout_s=max(left, 0.0),
            connect_timeout_s=float(ctx.arg("connect_timeout")),
            sleep_s=1.0,
            accept=lambda r: r.ok and r.stdout.strip() not in ("", boot_id),
        )
        elapsed = round(time.monotonic() - start, 3)
        if waited.result is None:
            return fail(
                f"timed out waiting for the host to come back after {elapsed:g}s: {waited.error}",
                changed=True,
                data={"rebooted": False, "elapsed": elapsed},
            )
        test = ctx.run(str(ctx.arg("test_command")))
        if not test.ok:
            why = test.stderr.strip() or f"rc={test.rc}"
            return fail(
                f"host rebooted but test_command failed: {why}",
                changed=True,
                data={"rebooted": True, "elapsed": elapsed},
            )
        return ModuleResult(
            changed=True,
            msg=f"rebooted in {elapsed:g}s",
            data={"rebooted": True, "elapsed": elapsed},
        )
