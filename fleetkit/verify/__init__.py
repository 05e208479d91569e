"""`fleetkit verify`: pytest-testinfra test files against inventory hosts.

Every `host.run` of a test goes through the host's fleetkit Connection (the
same ssh_config, jump hosts, host keys and become as `fleetkit exec`). Each
host runs in its own pytest session in its own worker process, so hosts run in
parallel and one host's module state, fixtures and captured output never mix
with another's; results come back per test per host into fleetkit's reporters.
Nothing here is imported by `fleetkit --help` (pytest and testinfra load only
when verify or a testinfra health check runs).
"""
