"""Configuration fleetkit reads besides the command line: ansible.cfg and ANSIBLE_* variables."""
