"""The three dashboards fleetkit ships, built from the metrics contract (docs: design.md).

`python -m fleetkit.dashboards` writes them to grafana/dashboards/; a unit test
checks that the committed JSON is what these functions build.
"""

from __future__ import annotations

from collections.abc import Callable

from fleetkit.dashboards.builder import (
    Json,
    Layout,
    bargauge,
    dashboard,
    datasource_variable,
    query_variable,
    stat,
    table,
    target,
    timeseries,
)

HOST = 'host=~"$host"'
RATE = "[$__rate_interval]"
GROUP_RE = "(.*,)?(${group})(,.*)?"  # one group inside the comma-separated `groups` label

UP_DOWN = {"1": ("UP", "green"), "0": ("DOWN", "red")}
OK_FAILING = {"1": ("OK", "green"), "0": ("FAILING", "red")}
READY = {"1": ("ready", "green"), "0": ("not ready", "red")}
HEALTH = {"1": ("healthy", "green"), "0": ("unhealthy", "red"), "-1": ("no check", "text")}

GOOD_HIGH = (("red", None), ("yellow", 10.0), ("green", 20.0))
FILL = (("green", None), ("yellow", 80.0), ("red", 90.0))
BUSY = (("green", None), ("yellow", 75.0), ("red", 90.0))
AGE = (("green", None), ("yellow", 60.0), ("red", 180.0))
COMPLETE = (("red", None), ("green", 100.0))
ANY_BAD = (("green", None), ("red", 1.0))
NEUTRAL = (("blue", None),)


def in_groups(expr: str) -> str:
    """expr without the hosts outside the selected groups (hosts with no info kept)."""
    return f'({expr}) unless on(host) fleetkit_host_info{{groups!~"{GROUP_RE}"}}'


def variables() -> list[Json]:
    """$datasource, $host (multi, all by default) and $group (one per inventory group)."""
    return [
        datasource_variable(),
        query_variable("host", "Host", "label_values(fleetkit_host_up, host)"),
        query_variable(
            "group",
            "Group",
            "label_values(fleetkit_host_info, groups)",
            regex="/([^,]+)/g",
            all_value=".*",
        ),
    ]


# Expressions shared by several panels, per host.
UP = in_groups(f"max by (host) (fleetkit_host_up{{{HOST}}})")
CPU_BUSY = in_groups(
    f'100 * (1 - sum by (host) (rate(fleetkit_host_cpu_seconds_total{{{HOST}, mode="idle"}}{RATE}))'
    f" / sum by (host) (rate(fleetkit_host_cpu_seconds_total{{{HOST}}}{RATE})))"
)
LOAD_PER_CPU = in_groups(
    f"fleetkit_host_load1{{{HOST}}}"
    f" / on(host) sum by (host) (rate(fleetkit_host_cpu_seconds_total{{{HOST}}}{RATE}))"
)
MEM_AVAILABLE = in_groups(
    f"100 * fleetkit_host_memory_available_bytes{{{HOST}}}"
    f" / fleetkit_host_memory_total_bytes{{{HOST}}}"
)
FS_FILL = in_groups(
    f"100 * (1 - fleetkit_host_filesystem_avail_bytes{{{HOST}}}"
    f" / (fleetkit_host_filesystem_size_bytes{{{HOST}}} > 0))"
)
COLLECT_AGE = in_groups(f"time() - fleetkit_host_last_collect_timestamp_seconds{{{HOST}}}")
UPTIME = in_groups(f"time() - fleetkit_host_boot_time_seconds{{{HOST}}}")


def fleet_overview() -> Json:
    """Hosts up/down, load, CPU, memory, disks, network, uptime and collection age."""
    grid = Layout()
    grid.row(
        4,
        (4, stat("Hosts up", [target(f"sum({UP}) or vector(0)", instant=True)],
                 unit="none", steps=(("red", None), ("green", 1.0)))),
        (4, stat("Hosts down", [target(f"count(({UP}) == 0) or vector(0)", instant=True)],
                 unit="none", steps=ANY_BAD,
                 description="Hosts the exporter could not reach in its last cycle.")),
        (4, stat("Oldest collection", [target(f"max({COLLECT_AGE})", instant=True)],
                 unit="s", decimals=0, steps=AGE,
                 description="Seconds since the exporter last collected the stalest host.")),
        (4, stat("Busiest CPU", [target(f"max({CPU_BUSY})", instant=True)],
                 unit="percent", decimals=1, steps=BUSY)),
        (4, stat("Lowest memory available", [target(f"min({MEM_AVAILABLE})", instant=True)],
                 unit="percent", decimals=1, steps=GOOD_HIGH)),
        (4, stat("Fullest filesystem", [target(f"max({FS_FILL})", instant=True)],
                 unit="percent", decimals=1, steps=FILL)),
    )  # fmt: skip
    grid.row(
        9,
        (12, table(
            "Hosts",
            [
                target(UP, table=True),
                target(in_groups(
                    f"max by (host, groups, os, kernel) (fleetkit_host_info{{{HOST}}})"
                ), table=True),
                target(f"max by (host) ({UPTIME})", table=True),
                target(f"max by (host) ({COLLECT_AGE})", table=True),
            ],
            description="One row per host: reachable, inventory groups, OS, kernel, uptime.",
            renames={"host": "Host", "groups": "Groups", "os": "OS", "kernel": "Kernel",
                     "Value #A": "State", "Value #C": "Uptime", "Value #D": "Collected"},
            hidden=("Time", "__name__", "Value #B"),
            column_units={"Value #C": "s", "Value #D": "s"},
            column_mappings={"Value #A": UP_DOWN},
            sort_by="State",
        )),
        (12, bargauge(
            "Filesystem fill per mount (worst first)",
            [target(f"sort_desc({FS_FILL})", "{{host}} {{mountpoint}}", instant=True)],
            unit="percent", steps=FILL, max_=100,
        )),
    )  # fmt: skip
    grid.row(
        8,
        (12, timeseries("Load per CPU", [target(LOAD_PER_CPU, "{{host}}")], unit="none",
                        steps=(("green", None), ("orange", 1.0), ("red", 2.0)),
                        description="1-minute load average divided by the host's CPU count.")),
        (12, timeseries("CPU busy", [target(CPU_BUSY, "{{host}}")], unit="percent",
                        steps=BUSY, min_=0, max_=100)),
    )  # fmt: skip
    grid.row(
        8,
        (12, timeseries("Memory available", [target(MEM_AVAILABLE, "{{host}}")],
                        unit="percent", steps=GOOD_HIGH, min_=0, max_=100)),
        (12, timeseries(
            "Network throughput",
            [
                target(in_groups(
                    f'rate(fleetkit_host_network_receive_bytes_total{{{HOST}, device!="lo"}}'
                    f"{RATE})"), "{{host}} {{device}} rx"),
                target(in_groups(
                    f'rate(fleetkit_host_network_transmit_bytes_total{{{HOST}, device!="lo"}}'
                    f"{RATE})"), "{{host}} {{device}} tx"),
            ],
            unit="binBps",
        )),
    )  # fmt: skip
    grid.row(
        7,
        (8, stat("Uptime", [target(UPTIME, "{{host}}", instant=True)], unit="s", decimals=1,
                 steps=(("orange", None), ("green", 3600.0)),
                 description="Orange for an hour after a reboot.")),
        (8, timeseries("Collection age", [target(COLLECT_AGE, "{{host}}")], unit="s", steps=AGE,
                       description="Seconds since each host's last successful collection.")),
        (8, timeseries("Collection duration",
                       [target(in_groups(f"fleetkit_host_collect_duration_seconds{{{HOST}}}"),
                               "{{host}}")],
                       unit="s", steps=(("green", None), ("yellow", 5.0), ("red", 15.0)))),
    )  # fmt: skip
    return dashboard(
        "fleetkit-fleet-overview",
        "fleetkit / Fleet overview",
        "Hosts of the inventory as the fleetkit exporter sees them.",
        grid.panels,
        variables(),
    )


CONTAINERS_RUNNING = in_groups(f"fleetkit_container_running{{{HOST}}}")
SERVICE_RATIO = (
    "100 * fleetkit_swarm_service_replicas_running"
    " / on(service) (fleetkit_swarm_service_replicas_desired > 0)"
)
K8S_RATIO = (
    "100 * fleetkit_k8s_deployment_replicas_available"
    " / on(namespace, deployment) (fleetkit_k8s_deployment_replicas_desired > 0)"
)


def containers_services() -> Json:
    """Swarm services and nodes, containers per host, Kubernetes deployments."""
    grid = Layout()
    grid.header("Swarm")
    grid.row(
        7,
        (8, stat("Service replicas running / desired",
                 [target(SERVICE_RATIO, "{{service}}", instant=True)],
                 unit="percent", decimals=0, steps=COMPLETE,
                 description="Red while a service runs fewer replicas than it wants.")),
        (16, timeseries(
            "Service replicas: desired vs running",
            [target("fleetkit_swarm_service_replicas_desired", "{{service}} desired"),
             target("fleetkit_swarm_service_replicas_running", "{{service}} running")],
            unit="none",
        )),
    )  # fmt: skip
    grid.row(
        7,
        (4, stat("Nodes ready", [target("sum(fleetkit_swarm_node_ready)", instant=True)],
                 unit="none", steps=(("red", None), ("green", 1.0)))),
        (4, stat("Nodes not ready",
                 [target("count(fleetkit_swarm_node_ready == 0) or vector(0)", instant=True)],
                 unit="none", steps=ANY_BAD)),
        (16, table(
            "Swarm nodes",
            [target("max by (node, role, availability) (fleetkit_swarm_node_ready)",
                    table=True)],
            renames={"node": "Node", "role": "Role", "availability": "Availability",
                     "Value": "Ready"},
            column_mappings={"Value": READY},
            sort_by="Ready",
        )),
    )  # fmt: skip
    grid.header("Containers")
    grid.row(
        8,
        (4, stat("Containers not running",
                 [target(f"count(({CONTAINERS_RUNNING}) == 0) or vector(0)", instant=True)],
                 unit="none", steps=ANY_BAD)),
        (10, timeseries("Containers running per host",
                        [target(f"sum by (host) ({CONTAINERS_RUNNING})", "{{host}} running"),
                         target(f"count by (host) ({CONTAINERS_RUNNING})", "{{host}} total")],
                        unit="none")),
        (10, bargauge(
            "Restarts over the range (top 15)",
            [target(in_groups(
                f"sort_desc(topk(15, increase(fleetkit_container_restarts_total{{{HOST}}}"
                "[$__range])))"), "{{host}} {{name}}", instant=True)],
            unit="none", steps=(("green", None), ("yellow", 1.0), ("red", 5.0)),
        )),
    )  # fmt: skip
    grid.row(
        8,
        (8, table(
            "Container health",
            [target(in_groups(f"max by (host, name) (fleetkit_container_health_state{{{HOST}}})"),
                    table=True)],
            description="Docker health checks: healthy, unhealthy or starting, no check.",
            renames={"host": "Host", "name": "Container", "Value": "Health"},
            column_mappings={"Value": HEALTH},
            sort_by="Health",
        )),
        (8, timeseries(
            "Container CPU",
            [target(in_groups(
                f"100 * rate(fleetkit_container_cpu_seconds_total{{{HOST}}}{RATE})"),
                "{{host}} {{name}}")],
            unit="percent", description="100% is one CPU busy.",
        )),
        (8, timeseries(
            "Container memory",
            [target(in_groups(f"fleetkit_container_memory_usage_bytes{{{HOST}}}"),
                    "{{host}} {{name}}")],
            unit="bytes",
        )),
    )  # fmt: skip
    grid.header("Kubernetes")
    grid.row(
        7,
        (8, stat("Deployments available / desired",
                 [target(K8S_RATIO, "{{namespace}}/{{deployment}}", instant=True)],
                 unit="percent", decimals=0, steps=COMPLETE)),
        (16, timeseries(
            "Deployment replicas: desired vs available",
            [target("fleetkit_k8s_deployment_replicas_desired",
                    "{{namespace}}/{{deployment}} desired"),
             target("fleetkit_k8s_deployment_replicas_available",
                    "{{namespace}}/{{deployment}} available")],
            unit="none",
        )),
    )  # fmt: skip
    return dashboard(
        "fleetkit-containers-services",
        "fleetkit / Containers and services",
        "Docker containers on each host, Swarm services and nodes, Kubernetes deployments.",
        grid.panels,
        variables(),
    )


HEALTH_OK = in_groups(f"max by (host, check) (fleetkit_health_check_ok{{{HOST}}})")


def runs_health() -> Json:
    """Playbook runs, health checks and the exporter's own cycle."""
    grid = Layout()
    grid.header("Playbook runs")
    grid.row(
        8,
        (6, stat(
            "Failed tasks (last run)",
            [target('sum by (playbook) (fleetkit_run_tasks_total{status=~"failed|unreachable"})',
                    "{{playbook}}", instant=True)],
            unit="none", steps=ANY_BAD,
        )),
        (9, bargauge(
            "Tasks by status (last run)",
            [target("sort_desc(sum by (playbook, status) (fleetkit_run_tasks_total))",
                    "{{playbook}} {{status}}", instant=True)],
            unit="none", steps=NEUTRAL,
        )),
        (9, bargauge(
            "Hosts by status (last run)",
            [target("sort_desc(sum by (playbook, status) (fleetkit_run_hosts))",
                    "{{playbook}} {{status}}", instant=True)],
            unit="none", steps=NEUTRAL,
        )),
    )  # fmt: skip
    grid.row(
        8,
        (12, timeseries("Run duration", [target("fleetkit_run_duration_seconds", "{{playbook}}")],
                        unit="s")),
        (12, bargauge(
            "Time since last successful run",
            [target("sort_desc(time() - fleetkit_run_last_success_timestamp_seconds)",
                    "{{playbook}}", instant=True)],
            unit="s", steps=(("green", None), ("yellow", 86400.0), ("red", 604800.0)),
            description="Yellow after a day, red after a week without a successful run.",
        )),
    )  # fmt: skip
    grid.header("Health checks")
    grid.row(
        8,
        (4, stat("Checks failing",
                 [target(f"count(({HEALTH_OK}) == 0) or vector(0)", instant=True)],
                 unit="none", steps=ANY_BAD)),
        (4, stat("Since last health run",
                 [target("time() - max(fleetkit_health_last_run_timestamp_seconds)",
                         instant=True)],
                 unit="s", decimals=0,
                 steps=(("green", None), ("yellow", 900.0), ("red", 3600.0)))),
        (16, table(
            "Health checks by host and check (failing first)",
            [target(HEALTH_OK, table=True)],
            renames={"host": "Host", "check": "Check", "Value": "State"},
            column_mappings={"Value": OK_FAILING},
            sort_by="State",
        )),
    )  # fmt: skip
    grid.header("Exporter")
    grid.row(
        7,
        (12, timeseries("Exporter cycle duration",
                        [target("fleetkit_exporter_cycle_duration_seconds", "cycle")],
                        unit="s", description="Time to collect every host once.")),
        (12, timeseries("Exporter cycles per minute",
                        [target(f"60 * rate(fleetkit_exporter_cycles_total{RATE})", "cycles")],
                        unit="cpm")),
    )  # fmt: skip
    return dashboard(
        "fleetkit-runs-health",
        "fleetkit / Runs and health",
        "Playbook runs (fleetkit run --metrics-textfile/--pushgateway), health checks, exporter.",
        grid.panels,
        variables(),
        time_from="now-24h",
    )


def catalog() -> dict[str, Callable[[], Json]]:
    """File name -> builder of every dashboard shipped in grafana/dashboards/."""
    return {
        "fleet-overview.json": fleet_overview,
        "containers-services.json": containers_services,
        "runs-health.json": runs_health,
    }
