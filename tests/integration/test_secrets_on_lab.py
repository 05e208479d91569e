"""Finding 2 on a real lab host: planted secrets appear in no output and no process list.

One playbook on lab2 runs an unnamed no_log shell task whose command holds a
password, a slow (`sleep 3`) task whose `environment:` holds a token, and a `user`
task that sets (then changes) a password hash, and ends with a planned failure so
a retry file is written. While it runs, a second SSH session (`fleetkit exec`)
lists every process's arguments on lab2 (`ps -eo args`) over and over. Then the
console, --json, the retry file and the --metrics-textfile output are grepped.
The user is removed at the end.
"""

from __future__ import annotations

import subprocess
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.support import fleetkit, json_events

from fleetkit.lab.model import LabState

pytestmark = pytest.mark.integration

NAME_PW = "PlantedNamePw4417"  # in the no_log task's command: never in any output
ENV_TOKEN = "PlantedEnvToken9035abcdef"  # environment: value: never on a command line either
HASH1 = "$6$fksalt01$PlantedHashOneForTheLabUserModuleTest0123456789abcdefABCDEFghij"
HASH2 = "$6$fksalt02$PlantedHashTwoForTheLabUserModuleTest0123456789abcdefABCDEFghij"
USER = "fk-secret-user"

PLAYBOOK = f"""
- hosts: lab2
  become: true
  gather_facts: false
  vars:
    db_pw: {NAME_PW}
    app_token: {ENV_TOKEN}
  tasks:
    - shell: "test -n '{{{{ db_pw }}}}'"
      no_log: true
    - name: slow task with a secret environment
      shell: 'sleep 3; echo "token-length $(printf %s "$APP_TOKEN" | wc -c)"'
      environment:
        APP_TOKEN: "{{{{ app_token }}}}"
      register: slow
    - name: the token reached the command
      assert:
        that: ["slow.stdout == 'token-length {len(ENV_TOKEN)}'"]
    - name: create the user with a hash
      user: {{name: {USER}, password: '{HASH1}', create_home: false}}
    - name: change the hash, slowly
      shell: 'sleep 1; [ -n "$APP_TOKEN" ]'
      environment: {{APP_TOKEN: "{{{{ app_token }}}}"}}
    - user: {{name: {USER}, password: '{HASH2}', create_home: false}}
    - name: the hash is set
      shell: "getent shadow {USER} | cut -d: -f2"
      register: shadow
      no_log: true
    - assert: {{that: ["shadow.stdout == '{HASH2}'"]}}
    - name: planned failure, so a retry file is written
      fail: {{msg: "planned failure"}}
"""

SCAN = (
    "end=$(( $(date +%s) + {seconds} )); "
    "while [ $(date +%s) -lt $end ]; do ps -eo args; done | awk '!seen[$0]++'"
)


@pytest.fixture
def inventory(lab: LabState) -> Iterator[str]:
    assert lab.inventory is not None
    yield str(lab.inventory)
    gone = fleetkit(
        "exec", "lab2", "-i", str(lab.inventory), "--become", "--",
        f"userdel {USER} 2>/dev/null; ! getent passwd {USER}",
        timeout=60,
    )  # fmt: skip
    assert gone.returncode == 0, gone.stdout + gone.stderr


def test_no_planted_secret_in_outputs_or_the_hosts_process_list(
    inventory: str, tmp_path: Path
) -> None:
    book = tmp_path / "secrets.yml"
    book.write_text(textwrap.dedent(PLAYBOOK))
    metrics = tmp_path / "run.prom"
    seen: dict[str, subprocess.CompletedProcess[str]] = {}

    def scan() -> None:
        seen["ps"] = fleetkit(
            "exec", "lab2", "-i", inventory, "--timeout", "60", "--",
            SCAN.format(seconds=14),
            timeout=90,
        )  # fmt: skip

    scanner = threading.Thread(target=scan)
    scanner.start()
    try:
        run = fleetkit(
            "run", str(book), "-i", inventory, "--json", "--metrics-textfile", str(metrics),
            timeout=120, cwd=tmp_path,
        )  # fmt: skip
        console = fleetkit("run", str(book), "-i", inventory, timeout=120, cwd=tmp_path)
    finally:
        scanner.join()

    events = json_events(run.stdout)
    assert run.returncode == 1, run.stdout[-3000:] + run.stderr[-2000:]
    summary = events[-1]
    assert summary["event"] == "summary" and summary["hosts"]["lab2"]["failed"] == 1
    failed = [e for e in events if e.get("status") == "failed"]
    assert [e["task"] for e in failed] == ["planned failure, so a retry file is written"]
    retry = tmp_path / summary["retry_file"]  # relative to the run's folder, or absolute
    assert [ln for ln in retry.read_text().splitlines() if not ln.startswith("#")] == ["lab2"]
    assert console.returncode == 1, console.stdout[-3000:] + console.stderr[-2000:]
    assert "planned failure" in console.stdout + console.stderr

    ps = seen["ps"]
    assert ps.returncode == 0, ps.stdout[-2000:] + ps.stderr[-2000:]
    listed = json_events(ps.stdout) if ps.stdout.lstrip().startswith("{") else []
    processes = listed[0]["stdout"] if listed else ps.stdout
    assert "sleep 3" in processes, "the process scan did not overlap the slow task"

    outputs = {
        "json": run.stdout + run.stderr,
        "console": console.stdout + console.stderr,
        "retry file": retry.read_text(),
        "metrics": metrics.read_text(),
    }
    assert "fleetkit_run" in outputs["metrics"]
    leaks = [
        f"{secret} in {where}"
        for secret in (NAME_PW, ENV_TOKEN, HASH1, HASH2)
        for where, text in outputs.items()
        if secret in text
    ]
    leaks += [
        f"{secret} in lab2's process list: {line[:200]!r}"
        for secret in (ENV_TOKEN, HASH1, HASH2)
        for line in processes.splitlines()
        if secret in line
    ]
    assert not leaks, "\n".join(leaks)
