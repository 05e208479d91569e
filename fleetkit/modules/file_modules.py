"""The file, account and system-state modules roles call (issue 10), for the registry."""

from __future__ import annotations

from fleetkit.modules.archive import Archive
from fleetkit.modules.authorized_key import AuthorizedKey
from fleetkit.modules.base import Module
from fleetkit.modules.blockinfile import BlockInFile
from fleetkit.modules.cron import Cron
from fleetkit.modules.find import Find
from fleetkit.modules.get_url import GetUrl
from fleetkit.modules.group import Group
from fleetkit.modules.hostname import Hostname
from fleetkit.modules.mount import Mount
from fleetkit.modules.replace import Replace
from fleetkit.modules.slurp import Slurp
from fleetkit.modules.stat import Stat
from fleetkit.modules.sysctl import Sysctl
from fleetkit.modules.unarchive import Unarchive

FILE_MODULES: tuple[Module, ...] = (
    Archive(),
    AuthorizedKey(),
    BlockInFile(),
    Cron(),
    Find(),
    GetUrl(),
    Group(),
    Hostname(),
    Mount(),
    Replace(),
    Slurp(),
    Stat(),
    Sysctl(),
    Unarchive(),
)
