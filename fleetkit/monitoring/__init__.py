"""Agentless monitoring: one SSH round trip per host per cycle, served to Prometheus.

    probe.py (the shell script + defensive parsing, collectors/ one source per file)
      -> cycle.py (one cycle over the HostPool: backoff, swarm/k8s fail-over)
      -> snapshot.py (frozen FleetSnapshot, swapped in whole)
      -> collector.py (prometheus_client Collector) -> exporter.py + web.py (/metrics)
      -> health.py + checks.py + health_output.py (`fleetkit health`, for cron)

Nothing is imported here: prometheus_client and schedule load only when a
monitoring command runs.
"""
