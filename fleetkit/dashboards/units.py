"""Grafana units as text: "bytes" -> "1.5 GiB", "s" -> "3.2 day", "percent" -> "42.0%"."""

from __future__ import annotations

import math
from collections.abc import Sequence

from fleetkit.dashboards.model import Step

_IEC = ("B", "KiB", "MiB", "GiB", "TiB", "PiB")
_SI = ("B", "kB", "MB", "GB", "TB", "PB")
_SHORT = ("", "K", "Mil", "Bil", "Tri")
_DURATIONS = ((604800.0, "week"), (86400.0, "day"), (3600.0, "hour"), (60.0, "min"), (1.0, "s"))


def format_value(value: float | None, unit: str = "", decimals: int | None = None) -> str:
    """value in unit as Grafana shows it ("No data" for None, "NaN" for NaN)."""
    if value is None:
        return "No data"
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if unit == "percent":
        return f"{_num(value, decimals, 1)}%"
    if unit == "percentunit":
        return f"{_num(value * 100, decimals, 1)}%"
    if unit in ("bytes", "decbytes"):
        return _scaled(
            value, 1024 if unit == "bytes" else 1000, _IEC if unit == "bytes" else _SI, decimals
        )
    if unit in ("binBps", "Bps"):
        base, names = (1024, _IEC) if unit == "binBps" else (1000, _SI)
        return _scaled(value, base, names, decimals) + "/s"
    if unit == "s":
        return _duration(value, decimals)
    if unit == "cpm":
        return f"{_short(value, decimals)} cpm"
    return _short(value, decimals)


def _num(value: float, decimals: int | None, default: int) -> str:
    if decimals is None and float(value).is_integer():
        return str(int(value))
    return f"{value:.{default if decimals is None else decimals}f}"


def _auto(value: float, decimals: int | None) -> str:
    """Three significant digits unless decimals say otherwise."""
    if decimals is not None:
        return f"{value:.{decimals}f}"
    if float(value).is_integer():
        return str(int(value))
    magnitude = abs(value)
    places = 2 if magnitude < 10 else 1 if magnitude < 100 else 0
    return f"{value:.{places}f}"


def _scaled(value: float, base: int, names: Sequence[str], decimals: int | None) -> str:
    index = 0
    while abs(value) >= base and index < len(names) - 1:
        value /= base
        index += 1
    return f"{_auto(value, decimals)} {names[index]}"


def _short(value: float, decimals: int | None) -> str:
    index = 0
    while abs(value) >= 1000 and index < len(_SHORT) - 1:
        value /= 1000
        index += 1
    text = _auto(value, decimals)
    return f"{text} {_SHORT[index]}" if index else text


def _duration(seconds: float, decimals: int | None) -> str:
    if abs(seconds) < 1 and seconds != 0:
        return f"{_auto(seconds * 1000, decimals)} ms"
    for size, name in _DURATIONS:
        if abs(seconds) >= size:
            return f"{_auto(seconds / size, decimals)} {name}"
    return f"{_auto(seconds, decimals)} s"


def step_color(value: float | None, steps: Sequence[Step], default: str = "green") -> str:
    """The color of the highest step at or below value (the base step below every one)."""
    color = steps[0].color if steps else default
    if value is None or math.isnan(value):
        return color
    for step in steps:
        if step.value is None or value >= step.value:
            color = step.color
    return color
