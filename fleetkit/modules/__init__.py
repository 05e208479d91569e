"""Playbook modules, one per file, on a small typed base (modules/base.py).

Each declares its arguments (validated before any host is touched), says
whether it can predict its change in check mode, and reports `changed` by
comparing the wanted state with the host's. registry.py maps names (and
Ansible's `ansible.builtin.*` names) to modules, with "did you mean".
"""
