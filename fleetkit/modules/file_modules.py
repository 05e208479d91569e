"""The file, account and system-state modules roles call (issue 10), for the registry."""

from __future__ import annotations

from fleetkit.modules.base import Module
from fleetkit.modules.blockinfile import BlockInFile
from fleetkit.modules.replace import Replace
from fleetkit.modules.slurp import Slurp
from fleetkit.modules.stat import Stat

FILE_MODULES: tuple[Module, ...] = (
    BlockInFile(),
    Replace(),
    Slurp(),
    Stat(),
)
