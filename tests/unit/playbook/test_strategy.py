"""Running plays on a fake fleet: linear results, failures as data, handlers, batches, budgets."""

from __future__ import annotations

import base64
import threading
import time
from pathlib import Path

import pytest
from tests.unit.playbook.helpers import Fleet, inventory, run

from fleetkit.errors import PatternError
from fleetkit.executor.facts import FACTS_MARKER
from fleetkit.modules.base import ENV_LINE
from fleetkit.testing.fake_connection import FakeCall, table
from fleetkit.testing.fake_facts import DEBIAN_OS_RELEASE, fact_output, python_probe

pytestmark = pytest.mark.unit

HOSTS4 = ("web1", "web2", "web3", "web4")


def test_each_task_runs_on_every_host_and_is_reported_in_order(tmp_path: Path) -> None:
    fleet = Fleet(table({"hostname": (0, "name\n", "")}))
    out = run(
        tmp_path,
        """
        - name: basics
          hosts: all
          tasks:
            - name: one
              command: hostname
            - name: two
              shell: echo {{ inventory_hostname }}
        """,
        fleet=fleet,
    )
    kinds = [(e["event"], e.get("task")) for e in out.events]
    assert kinds[:3] == [("play_start", None), ("task_start", "one"), ("host_result", "one")]
    assert kinds.index(("task_start", "two")) > max(
        i for i, k in enumerate(kinds) if k == ("host_result", "one")
    )
    assert out.status("one") == {"web1": "changed", "web2": "changed"}
    assert fleet.commands("web2")[-1] == "echo web2"
    assert out.result.exit_code() == 0
    assert out.events[-1]["event"] == "summary" and out.events[-1]["retry_file"] is None


def test_a_failed_host_drops_out_the_others_finish_and_a_retry_file_is_written(
    tmp_path: Path,
) -> None:
    fleet = Fleet(table({"^false": (1, "", "nope")}))
    out = run(
        tmp_path,
        """
        - hosts: all
          tasks:
            - name: maybe fail
              shell: "{{ 'false' if inventory_hostname == 'web2' else 'true' }}"
            - name: after
              command: uptime
        """,
        fleet=fleet,
        hosts=HOSTS4,
    )
    assert out.status("maybe fail")["web2"] == "failed"
    assert set(out.status("after")) == {"web1", "web3", "web4"}
    assert out.result.exit_code() == 1
    summary = out.events[-1]
    assert summary["retry_file"] == ".fleetkit/retry/site.retry"
    assert summary["hosts"]["web2"] == {
        "ok": 0,
        "changed": 0,
        "failed": 1,
        "unreachable": 0,
        "skipped": 0,
        "rescued": 0,
        "ignored": 0,
    }
    retry = (tmp_path / ".fleetkit" / "retry" / "site.retry").read_text()
    assert [ln for ln in retry.splitlines() if not ln.startswith("#")] == ["web2"]


def test_limit_at_retry_file_reruns_only_those_hosts(tmp_path: Path) -> None:
    (tmp_path / "retry").write_text("# from an earlier run\nweb3\n")
    out = run(
        tmp_path,
        "- hosts: all\n  tasks: [{name: t, command: uptime}]\n",
        hosts=HOSTS4,
        limit=f"@{tmp_path / 'retry'}",
    )
    assert out.status("t") == {"web3": "changed"}


def test_an_unreachable_host_is_reported_and_skipped_exit_3(tmp_path: Path) -> None:
    fleet = Fleet(unreachable={"web1"})
    out = run(
        tmp_path,
        "- hosts: all\n  tasks:\n    - {name: a, command: uptime}\n"
        "    - {name: b, command: uptime}\n",
        fleet=fleet,
    )
    assert out.status("a") == {"web1": "unreachable", "web2": "changed"}
    assert out.status("b") == {"web2": "changed"}
    assert out.result.exit_code() == 3
    assert out.events[-1]["retry_file"] == ".fleetkit/retry/site.retry"


HANDLER_PLAY = """
- hosts: all
  tasks:
    - name: write config
      shell: echo conf
      changed_when: inventory_hostname != 'web2'
      notify: restart app
    - name: write config again
      shell: echo conf2
      notify: restart app
      changed_when: inventory_hostname != 'web2'
    - name: last task
      command: uptime
  handlers:
    - name: restart app
      shell: echo restart {{ inventory_hostname }}
    - name: never notified
      shell: echo never
"""


def test_handlers_run_once_per_host_at_the_end_only_where_something_changed(tmp_path: Path) -> None:
    fleet = Fleet()
    out = run(tmp_path, HANDLER_PLAY, fleet=fleet, hosts=("web1", "web2", "web3"))
    assert out.status("restart app") == {"web1": "changed", "web3": "changed"}
    assert fleet.commands("web1").count("echo restart web1") == 1
    assert not any("restart" in c for c in fleet.commands("web2"))
    assert not out.results("never notified")
    tasks = [e["task"] for e in out.events if e["event"] == "task_start"]
    assert tasks[-1] == "restart app"


def test_flush_handlers_runs_them_mid_play(tmp_path: Path) -> None:
    out = run(
        tmp_path,
        """
        - hosts: all
          tasks:
            - {name: change, shell: echo a, notify: h}
            - meta: flush_handlers
            - {name: after flush, shell: echo b}
          handlers:
            - {name: h, shell: echo handled}
        """,
    )
    tasks = [e["task"] for e in out.events if e["event"] == "task_start"]
    assert tasks == ["change", "h", "after flush"]


def test_handlers_answer_listen_topics(tmp_path: Path) -> None:
    out = run(
        tmp_path,
        """
        - hosts: all
          tasks: [{name: change, shell: echo a, notify: web changed}]
          handlers:
            - {name: reload, shell: echo r, listen: web changed}
        """,
    )
    assert out.status("reload") == {"web1": "changed", "web2": "changed"}


def test_check_mode_skips_commands_and_predicts_files(tmp_path: Path) -> None:
    fleet = Fleet(table({"^p=": (0, "T:missing\n", "")}))
    out = run(
        tmp_path,
        """
        - hosts: all
          tasks:
            - {name: cmd, shell: rm -rf /srv/app}
            - {name: conf, copy: {content: "x\\n", dest: /etc/app.conf}}
        """,
        fleet=fleet,
        check=True,
    )
    assert out.status("cmd") == {"web1": "skipped", "web2": "skipped"}
    assert out.status("conf") == {"web1": "changed", "web2": "changed"}
    assert all(r["msg"].startswith("would write") for r in out.results("conf"))
    for host in ("web1", "web2"):
        assert not any("rm -rf" in c or "mktemp" in c for c in fleet.commands(host))
    assert out.events[-1]["hosts"]["web1"]["skipped"] == 1


def test_serial_runs_batches_one_after_another(tmp_path: Path) -> None:
    out = run(
        tmp_path,
        "- hosts: all\n  serial: 2\n  tasks:\n"
        "    - {name: a, command: uptime}\n    - {name: b, command: uptime}\n",
        hosts=HOSTS4,
    )
    order = [(e["task"], e["host"]) for e in out.results()]
    assert [t for t, _ in order] == ["a", "a", "b", "b", "a", "a", "b", "b"]
    assert {h for _, h in order[:4]} == {"web1", "web2"}


def test_the_failure_budget_is_counted_per_batch_as_ansible_does(tmp_path: Path) -> None:
    hosts = tuple(f"web{i}" for i in range(1, 7))
    fleet = Fleet(table({"^false": (1, "", "")}))
    out = run(
        tmp_path,
        """
        - hosts: all
          serial: 3
          max_fail_percentage: 40
          tasks:
            - name: step
              shell: "{{ 'false' if inventory_hostname in ['web1', 'web4', 'web5'] else 'true' }}"
        """,
        fleet=fleet,
        hosts=hosts,
    )
    # batch 1: 1 of 3 failed (33%): go on (over the play it would be 17%);
    # batch 2: 2 of 3 (67% > 40%): stop
    assert set(out.status("step")) == set(hosts)
    assert any(
        "2 of 3 hosts of the batch failed" in w and "max_fail_percentage 40" in w
        for w in out.warnings()
    )


def test_a_batch_over_its_failure_budget_stops_the_play(tmp_path: Path) -> None:
    hosts = tuple(f"web{i}" for i in range(1, 7))
    fleet = Fleet(table({"^false": (1, "", "")}))
    out = run(
        tmp_path,
        """
        - hosts: all
          serial: 2
          max_fail_percentage: 25
          tasks:
            - name: step
              shell: "{{ 'false' if inventory_hostname == 'web1' else 'true' }}"
        """,
        fleet=fleet,
        hosts=hosts,
    )
    # 1 failed host of 6 is 17% of the play but 50% of its batch: Ansible stops there
    assert set(out.status("step")) == {"web1", "web2"}
    assert "web3" not in fleet.conns


def test_any_errors_fatal_stops_every_host_after_the_failing_task(tmp_path: Path) -> None:
    fleet = Fleet(table({"^false": (1, "", "")}))
    out = run(
        tmp_path,
        """
        - hosts: all
          any_errors_fatal: true
          tasks:
            - {name: a, shell: "{{ 'false' if inventory_hostname == 'web1' else 'true' }}"}
            - {name: b, command: uptime}
        """,
        fleet=fleet,
    )
    assert out.status("a") == {"web1": "failed", "web2": "changed"}
    assert not out.results("b")
    assert any("any_errors_fatal" in w for w in out.warnings())


def test_a_fast_host_runs_ahead_of_a_slow_one(tmp_path: Path) -> None:
    started: dict[tuple[str, str], float] = {}
    lock = threading.Lock()

    def handler(call: FakeCall) -> None:
        with lock:
            started[(call.host, call.command)] = time.monotonic()

    fleet = Fleet(handler, delays={"web2": 0.15})
    out = run(
        tmp_path,
        "- hosts: all\n  tasks:\n"
        + "".join(f"    - {{name: t{i}, shell: echo {i}}}\n" for i in range(3)),
        fleet=fleet,
    )
    assert started[("web1", "echo 2")] < started[("web2", "echo 1")]
    # output still reads linearly: every t0 line before any t1 line
    tasks = [e["task"] for e in out.results()]
    assert tasks == ["t0", "t0", "t1", "t1", "t2", "t2"]


def test_run_once_runs_on_one_host_and_shares_the_result(tmp_path: Path) -> None:
    fleet = Fleet(table({"make-token": (0, "tok123\n", "")}))
    out = run(
        tmp_path,
        """
        - hosts: all
          tasks:
            - {name: token, shell: make-token, run_once: true, register: tok}
            - {name: use, shell: "join {{ tok.stdout }}"}
        """,
        fleet=fleet,
    )
    assert out.status("token") == {"web1": "changed"}
    assert "join tok123" in fleet.commands("web2")
    assert "make-token" not in fleet.commands("web2")


def test_delegate_to_runs_on_the_other_hosts_connection(tmp_path: Path) -> None:
    fleet = Fleet()
    run(
        tmp_path,
        """
        - hosts: web2
          tasks:
            - {name: lb, shell: "drain {{ inventory_hostname }}", delegate_to: web1}
        """,
        fleet=fleet,
    )
    assert fleet.commands("web1") == ["drain web2"]
    assert fleet.commands("web2") == []


def test_loops_register_when_and_until(tmp_path: Path) -> None:
    attempts: dict[str, int] = {}

    def handler(call: FakeCall) -> tuple[int, str, str]:
        if call.command == "probe":
            attempts[call.host] = attempts.get(call.host, 0) + 1
            return (0, "ready\n", "") if attempts[call.host] >= 3 else (0, "starting\n", "")
        return (0, call.command + "\n", "")

    out = run(
        tmp_path,
        """
        - hosts: web1
          tasks:
            - name: each
              shell: "echo {{ item }}"
              loop: [a, b, c]
              when: item != 'b'
              register: looped
            - name: show
              debug:
                msg: "{{ looped.results | map(attribute='stdout') | select('defined') | list }}"
            - name: wait
              shell: probe
              register: p
              until: "'ready' in p.stdout"
              retries: 5
              delay: 0
        """,
        fleet=Fleet(handler),
    )
    assert out.results("each")[0]["msg"] == "3 items (2 changed, 1 skipped)"
    assert out.results("show")[0]["msg"] == '["echo a", "echo c"]'
    assert out.status("wait") == {"web1": "changed"} and attempts["web1"] == 3


def test_until_gives_up_after_the_retries(tmp_path: Path) -> None:
    slept: list[float] = []
    out = run(
        tmp_path,
        """
        - hosts: web1
          tasks:
            - {name: wait, shell: probe, register: p, until: "p.rc == 42", retries: 2, delay: 3}
        """,
        sleep=slept.append,
    )
    assert out.status("wait") == {"web1": "failed"}
    assert "until condition still false after 3 attempt(s)" in out.results("wait")[0]["msg"]
    assert slept == [3, 3]


def test_no_log_hides_output_in_every_event(tmp_path: Path) -> None:
    fleet = Fleet(table({"cat": (0, "s3cr3t-token\n", "")}))
    out = run(
        tmp_path,
        "- hosts: all\n  tasks:\n    - {name: secret, shell: cat /token, no_log: true}\n",
        fleet=fleet,
    )
    text = str(out.events)
    assert "s3cr3t" not in text
    assert out.results("secret")[0]["msg"] == "(output hidden: no_log)"


def test_ignore_errors_keeps_the_host_in_the_play(tmp_path: Path) -> None:
    fleet = Fleet(table({"^false": (1, "", "")}))
    out = run(
        tmp_path,
        "- hosts: web1\n  tasks:\n    - {name: f, shell: 'false', ignore_errors: true}\n"
        "    - {name: g, command: uptime}\n",
        fleet=fleet,
    )
    assert (
        out.status("f") == {"web1": "changed"} and "failed (ignored)" in out.results("f")[0]["msg"]
    )
    assert out.status("g") == {"web1": "changed"}
    assert out.result.exit_code() == 0


def test_failed_when_and_changed_when_decide_the_verdict(tmp_path: Path) -> None:
    fleet = Fleet(table({"check": (0, "ERROR found\n", "")}))
    out = run(
        tmp_path,
        """
        - hosts: web1
          tasks:
            - name: c
              shell: check
              register: r
              failed_when: "'ERROR' in r.stdout"
              changed_when: false
        """,
        fleet=fleet,
    )
    assert out.status("c") == {"web1": "failed"}
    assert out.results("c")[0]["msg"] == "failed_when condition is true"


def test_tags_and_skip_tags_select_tasks(tmp_path: Path) -> None:
    book = """
    - hosts: web1
      tasks:
        - {name: a, command: uptime, tags: [web]}
        - {name: b, command: uptime, tags: [db]}
        - {name: c, command: uptime, tags: [always]}
        - {name: d, command: uptime, tags: [never, debug]}
        - {name: e, command: uptime}
    """
    ran = {e["task"] for e in run(tmp_path, book, tags=frozenset({"web"})).results()}
    assert ran == {"a", "c"}
    ran = {e["task"] for e in run(tmp_path, book, skip_tags=frozenset({"web"})).results()}
    assert ran == {"b", "c", "e"}
    ran = {e["task"] for e in run(tmp_path, book, tags=frozenset({"debug"})).results()}
    assert ran == {"c", "d"}


def test_facts_are_gathered_in_one_round_trip_when_the_play_reads_them(tmp_path: Path) -> None:
    facts_out = fact_output(
        files={"/etc/os-release": DEBIAN_OS_RELEASE}, python=python_probe(node="web1", nproc=2)
    )
    fleet = Fleet(table({FACTS_MARKER: (0, facts_out, "")}))
    out = run(
        tmp_path,
        "- hosts: web1\n  tasks:\n"
        "    - {name: show, debug: {msg: '{{ facts.os.id }} {{ facts.cpus }}'}}\n",
        fleet=fleet,
    )
    assert out.status("gather facts") == {"web1": "ok"}
    assert out.results("show")[0]["msg"] == "debian 2"
    assert len(fleet.commands("web1")) == 1
    quiet = run(
        tmp_path, "- hosts: web1\n  tasks:\n    - {name: show, debug: {msg: hi}}\n", fleet=Fleet()
    )
    assert not quiet.results("gather facts")


def test_hostvars_see_other_hosts_registered_values(tmp_path: Path) -> None:
    fleet = Fleet(table({"^id$": (0, "x\n", "")}))
    fleet.handlers = {h: table({"^id$": (0, f"id-{h}\n", "")}) for h in ("web1", "web2")}
    out = run(
        tmp_path,
        """
        - hosts: all
          tasks:
            - {name: id, command: id, register: ident}
            - {name: peer, debug: {msg: "{{ hostvars['web2'].ident.stdout }}"}}
        """,
        fleet=fleet,
    )
    assert {e["msg"] for e in out.results("peer")} == {"id-web2"}


def test_set_fact_persists_across_plays_and_failed_hosts_leave_later_plays(tmp_path: Path) -> None:
    fleet = Fleet(table({"^false": (1, "", "")}))
    out = run(
        tmp_path,
        """
        - hosts: all
          tasks:
            - {name: fact, set_fact: {color: blue}}
            - {name: f, shell: "{{ 'false' if inventory_hostname == 'web2' else 'true' }}"}
        - name: second
          hosts: all
          tasks:
            - {name: show, debug: {msg: "{{ color }}"}}
        """,
        fleet=fleet,
    )
    assert out.status("show") == {"web1": "ok"}
    assert out.results("show")[0]["msg"] == "blue"


def test_a_variable_missing_on_one_host_fails_that_host_with_its_position(tmp_path: Path) -> None:
    inv = inventory(tmp_path, host_vars={"web1": {"port": 80}})
    out = run(
        tmp_path, "- hosts: all\n  tasks:\n    - {name: p, shell: 'echo {{ port }}'}\n", inv=inv
    )
    assert out.status("p") == {"web1": "changed", "web2": "failed"}
    assert (
        out.results("p")[1]["msg"]
        == f"{tmp_path}/site.yml:3: undefined variable: 'port' is undefined"
    )


def test_a_play_matching_no_host_is_skipped_with_a_warning(tmp_path: Path) -> None:
    out = run(
        tmp_path,
        "- hosts: dbservers\n  tasks: []\n- hosts: all\n  tasks: [{name: t, command: uptime}]\n",
    )
    assert any("dbservers" in w and "skipped" in w for w in out.warnings())
    assert set(out.status("t")) == {"web1", "web2"}
    with pytest.raises(PatternError, match="no play of the playbook matches any host"):
        run(tmp_path, "- hosts: dbservers\n  tasks: []\n")


def test_meta_end_host_ends_the_play_for_that_host_only(tmp_path: Path) -> None:
    out = run(
        tmp_path,
        """
        - hosts: all
          tasks:
            - meta: end_host
              when: inventory_hostname == 'web1'
            - {name: after, command: uptime}
        """,
    )
    assert out.status("after") == {"web2": "changed"}
    assert out.result.exit_code() == 0


def test_task_names_render_play_level_variables(tmp_path: Path) -> None:
    out = run(
        tmp_path,
        "- hosts: web1\n  vars: {image: 'web:v2'}\n  tasks:\n"
        "    - {name: 'deploy {{ image }}', command: uptime}\n",
    )
    assert out.status("deploy web:v2") == {"web1": "changed"}


def test_become_environment_and_omit_reach_the_host(tmp_path: Path) -> None:
    fleet = Fleet()
    run(
        tmp_path,
        """
        - hosts: web1
          become: true
          environment: {LANG: C}
          tasks:
            - name: as root
              shell: id
            - name: as app
              shell: id
              become_user: app
            - name: omitted
              shell: id
              args:
                chdir: "{{ nowhere | default(omit) }}"
        """,
        fleet=fleet,
    )
    calls = fleet.conns["web1"].calls
    env = ENV_LINE + " || exit 125\nid"  # the environment goes on stdin, not the command line
    assert calls[0].become and calls[0].command == env
    assert base64.b64decode((calls[0].stdin or b"").splitlines()[0]).startswith(b"export LANG=C\n")
    assert "sudo -n -H -u app" in calls[1].command and not calls[1].become
    assert calls[2].command == env


def test_an_unreachable_delegate_fails_the_task_not_the_host(tmp_path: Path) -> None:
    fleet = Fleet(unreachable={"web1"})
    out = run(
        tmp_path,
        """
        - hosts: web2
          tasks:
            - {name: lb, shell: drain, delegate_to: web1}
        """,
        fleet=fleet,
    )
    assert out.status("lb") == {"web2": "failed"}
    assert "delegate_to web1" in out.results("lb")[0]["msg"]
    assert out.result.exit_code() == 1


def test_loop_control_names_the_loop_and_index_variables(tmp_path: Path) -> None:
    fleet = Fleet()
    run(
        tmp_path,
        """
        - hosts: web1
          tasks:
            - shell: "echo {{ idx }}={{ user.name }}"
              loop: [{name: ann}, {name: bob}]
              loop_control: {loop_var: user, index_var: idx, label: "{{ user.name }}"}
        """,
        fleet=fleet,
    )
    assert fleet.commands("web1") == ["echo 0=ann", "echo 1=bob"]


def test_a_tag_no_task_carries_is_warned_about(tmp_path: Path) -> None:
    book = "- hosts: web1\n  tasks:\n    - {name: a, command: uptime, tags: [deploy]}\n"
    out = run(tmp_path, book, tags=frozenset({"deplyo"}))
    assert any("tag 'deplyo' is on no task" in w and "'deploy'" in w for w in out.warnings())
    assert not out.results()


def test_a_value_registered_in_one_play_is_read_through_hostvars_in_a_later_play(
    tmp_path: Path,
) -> None:
    fleet = Fleet(table({"cat /token": (0, "s3cret-ish\n", "")}))
    out = run(
        tmp_path,
        """
        - name: read on web1
          hosts: web1
          tasks:
            - name: read
              command: cat /token
              register: token
        - name: use on web2
          hosts: web2
          tasks:
            - name: use
              shell: echo {{ hostvars['web1']['token']['stdout'] }}
        """,
        fleet=fleet,
    )
    assert out.result.exit_code() == 0, out.events
    assert fleet.commands("web2")[-1] == "echo s3cret-ish"


def test_an_ansible_alias_given_with_e_overrides_the_inventory_connection_user(
    tmp_path: Path,
) -> None:
    from fleetkit.playbook.session import RunRequest, prepare

    inv = inventory(tmp_path, all_vars={"user": "deploy"})
    book = tmp_path / "site.yml"
    book.write_text("- hosts: all\n  tasks:\n    - debug: {msg: hi}\n")
    prepared = prepare(
        RunRequest(playbook=book, inventory=inv, extra_vars=("ansible_user=root",), cwd=tmp_path)
    )
    assert prepared.specs["web1"].user == "root"


def test_start_at_task_naming_no_task_says_so_as_ansible_does(tmp_path: Path) -> None:
    book = """
    - hosts: web1
      tasks:
        - {name: one, command: uptime}
    """
    out = run(tmp_path, book, start_at_task="nothing*")
    assert out.results() == []
    assert out.warnings() == [
        'No matching task "nothing*" found. Note: --start-at-task can only follow static includes.'
    ]
    assert out.result.exit_code() == 0
    assert run(tmp_path, book, start_at_task="one").warnings() == []
