"""Grafana dashboards: built in Python (catalog), read back (load), queried (query), drawn (render).

Data flows one way: dashboard JSON -> panels and targets -> PromQL with the
template variables substituted -> Prometheus series -> one PNG laid out like the
dashboard. matplotlib is imported only by render.py, and only when it draws.
"""
