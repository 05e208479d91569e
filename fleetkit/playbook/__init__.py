"""Playbooks: load (YAML with positions) -> check -> plan -> run, with Jinja2 rendering.

    schema.py     frozen Playbook / Play / Task / Handler
    load.py       YAML -> validated plays (keywords, modules, arguments), imports, vars_files
    check.py      templates parsed and names checked before any host is touched
    render.py     sandboxed Jinja2 with StrictUndefined and Ansible's filters
    variables.py  per-host variable precedence, resolved lazily
    plan.py       tags, serial batches, segments where hosts must wait
    runner.py     one task on one host -> Outcome
    session.py    the `fleetkit run` pipeline: prepare, execute, finish

Submodules are imported on use, so `import fleetkit.playbook` costs nothing.
"""
