"""The lab: a real fleet of SSH hosts in Linux namespaces on this machine (needs root).

    state = lab_up(hosts=3)       # hosts lab1..lab3 on 198.18.0.2.., inventory written
    lab_status()                  # what runs now (None: no lab)
    lab_down()                    # remove everything it made; safe on any partial state

One lab per machine, recorded in /var/lib/fleetkit/lab, so `fleetkit lab down`
works from any folder.
"""

from __future__ import annotations

from fleetkit.lab.down import lab_down
from fleetkit.lab.layout import LabPaths
from fleetkit.lab.model import LabHost, LabState
from fleetkit.lab.status import lab_status
from fleetkit.lab.up import lab_up

__all__ = ["LabHost", "LabPaths", "LabState", "lab_down", "lab_status", "lab_up"]
