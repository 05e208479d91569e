"""Test doubles: in-memory stand-ins for hosts, swarms and Prometheus, for tests and bench.

- `fake_connection`: `FakeConnection`, a scriptable `Connection` (a handler or a
  table of regexes maps a command to a `CommandResult`; `calls` records what ran,
  streams go to in-memory listeners, `put_file` records the file).
- `fake_swarm`: `FakeSwarm`, Engine API JSON for nodes, services and tasks that
  converges a step per poll; `engine(host)` gives an `Engine`.
- `fake_dashboard`: `fake_results`, plausible series for a dashboard's targets.
- `promql`: `metric_names`, the metric names a PromQL expression selects (for
  checking dashboards against the metrics contract).

Contract: each double implements the same interface as the real component
(`Connection`, `Engine`, `TargetResult`), so code under test cannot tell them
apart; hand one in through the injection points rather than patching module
names: `execute(prepared, reporter, connect=FakeConnection,
docker_engine=lambda ctx: swarm.engine(ctx.conn.name))` runs a playbook on fake
hosts whose Docker engines are a FakeSwarm's (the Kubernetes driver needs no
hook: it speaks HTTP over the connection's streams, which a FakeConnection
serves from an in-memory listener). Package code outside this
package must not import it (tests/unit/test_testing_package.py checks that):
nothing a user runs depends on a double.
"""
