"""`fleetkit top`: a live terminal view of the fleet, one collection cycle per refresh.

rows.py turns snapshots into rows sorted worst-first, table.py draws them with
rich, keys.py reads q without Enter, app.py runs the loop, source.py wires the
monitoring collection (the exporter's) to an inventory.
"""
