"""Run a module fleetkit has no native version of with Ansible's own module code.

ansible-core (GPL-3.0) is an optional extra, `fleetkit[ansible]`: nothing here
imports it until a playbook names a module that only Ansible has. resolve.py
says whether this controller can run a name, payload.py builds the module's
AnsiballZ payload with ansible-core's packaging, run.py sends it over the
task's connection on stdin and maps the JSON result, doc.py reads its docs.
"""

from __future__ import annotations

SUPPORTED = ">=2.19,<2.20"
"""The ansible-core versions whose internals (modify_module, _ansible_* keys) this uses."""

INSTALL_HINT = "pip install 'fleetkit[ansible]'"
