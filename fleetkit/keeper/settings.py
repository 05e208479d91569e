"""Whether a run uses the keeper, and for how long idle connections are kept.

Off by default: a background process that holds authenticated connections to the
fleet (anyone with the user's uid can run commands through it) should be a choice.
Turned on by `--persist[=DURATION]`, FLEETKIT_PERSIST or the inventory variable
`fleetkit_persist`, first one set wins, in that order. Values: a duration (`600`,
`90s`, `10m`, `1h`), a true word (`yes`, `1`, `on`, `true`: the default 10 minutes,
OpenSSH's usual ControlPersist habit) or a false word (`no`, `0`, `off`, `false`).
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from pathlib import Path

from fleetkit.errors import UsageError

ENV = "FLEETKIT_PERSIST"
KEEPER_ENV = "FLEETKIT_KEEPER"  # set inside the keeper: it never hands off to itself
INVENTORY_VAR = "fleetkit_persist"
DEFAULT_PERSIST_S = 600.0
UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0}
TRUE = ("1", "yes", "true", "on", "y")
FALSE = ("0", "no", "false", "off", "n", "")


def parse_persist(raw: object, where: str = ENV) -> float | None:
    """Seconds to keep idle connections, or None for off; bad values are UsageErrors."""
    if isinstance(raw, bool):
        return DEFAULT_PERSIST_S if raw else None
    text = str(raw) if isinstance(raw, int | float) else str(raw).strip().lower()
    if text in TRUE:
        return DEFAULT_PERSIST_S
    if text in FALSE:
        return None
    unit = UNITS.get(text[-1:], 0.0)
    digits = text[:-1] if unit else text
    try:
        value = float(digits) * (unit or 1.0)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise UsageError(
            f"{where}: {raw!r} is not a persist time",
            hint="a duration (600, 90s, 10m, 1h), yes (10 minutes) or no",
        )
    return value


def persist_seconds(environ: Mapping[str, str] | None = None) -> float | None:
    """The persist time this process's runs use (from FLEETKIT_PERSIST), None when off.

    The CLI puts --persist and the inventory's fleetkit_persist into the variable
    (cli/common.py persist_option), so the connection factory has one place to ask.
    """
    env = os.environ if environ is None else environ
    if env.get(KEEPER_ENV):
        return None
    raw = env.get(ENV)
    return None if raw is None else parse_persist(raw)


def runtime_dir(environ: Mapping[str, str] | None = None) -> Path:
    """Where the user's keeper socket lives: $XDG_RUNTIME_DIR/fleetkit when that is the
    user's own directory, else /tmp/fleetkit-UID (checked and made 0700 by sockets.py)."""
    env = os.environ if environ is None else environ
    xdg = env.get("XDG_RUNTIME_DIR")
    if xdg:
        try:
            st = os.stat(xdg)
        except OSError:
            st = None
        if st is not None and st.st_uid == os.getuid():
            return Path(xdg) / "fleetkit"
    return Path(f"/tmp/fleetkit-{os.getuid()}")


def socket_path(environ: Mapping[str, str] | None = None) -> Path:
    return runtime_dir(environ) / "keeper.sock"


def mentions_persist(inventory_path: str | Path, limit: int = 500) -> bool:
    """Whether any inventory file spells fleetkit_persist (a cheap test before loading the
    inventory a second time just to read one variable)."""
    root = Path(inventory_path)
    files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
    for path in files[:limit]:
        try:
            if INVENTORY_VAR.encode() in path.read_bytes():
                return True
        except OSError:
            continue
    return False


def inventory_persist(inventory_path: str | Path) -> float | None:
    """The inventory's all.vars fleetkit_persist (None when unset or off)."""
    if not mentions_persist(inventory_path):
        return None
    from fleetkit.inventory.load import load_inventory

    group = load_inventory(str(inventory_path)).groups.get("all")
    raw = group.vars.get(INVENTORY_VAR) if group is not None else None
    return None if raw is None else parse_persist(raw, f"inventory {INVENTORY_VAR}")


def resolve(
    flag: str | None, environ: Mapping[str, str], inventory_path: str | None
) -> float | None:
    """The run's persist time: --persist, else FLEETKIT_PERSIST, else the inventory's."""
    if flag is not None:
        return parse_persist(flag, "--persist")
    if environ.get(ENV) is not None:
        return parse_persist(environ[ENV])
    return inventory_persist(inventory_path) if inventory_path else None
