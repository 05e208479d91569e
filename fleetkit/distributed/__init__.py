"""Runs across Dask workers: `fleetkit exec|run|health --cluster tcp://SCHEDULER:8786`.

The CLI stays the Dask client (it loads and validates, then streams results back);
workers run fleetkit's own HostPool (exec, health) or PlaybookRun (run, in a process
per shard) on their shard of hosts. Dask is the optional extra `fleetkit[cluster]`:
nothing here imports it until a run asks for a cluster.
"""
