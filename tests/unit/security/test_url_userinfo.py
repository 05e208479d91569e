"""Finding 2c: URL credentials and `Arg(secret=True)` values are masked in every message.

URL userinfo (`https://user:pass@host`) is masked by the one redaction point
(fleetkit.report.redact) whether or not anything registered it, and a module's
secret arguments are registered with the run's redactor when the task renders
them, so a later task echoing the value shows the mask in console and JSON.
"""

from __future__ import annotations

import http.server
import json
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fleetkit.cli import main
from fleetkit.connection.local import LocalConnection
from fleetkit.modules.args import prepare
from fleetkit.modules.base import ModuleContext
from fleetkit.modules.registry import lookup
from fleetkit.playbook.render import Renderer
from fleetkit.report.redact import mask_userinfo, redact, redacting

pytestmark = pytest.mark.unit

PW = "Planted-Url-Pw-55"


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        (f"GET https://bob:{PW}@h.example/x -> 200", "GET https://bob:********@h.example/x -> 200"),
        (f"ftp://u:{PW}@@h/x", "ftp://u:********@h/x"),
        (f"https://{PW}@github.com/o/r.git", "https://********@github.com/o/r.git"),
        ("ssh://git@github.com/o/r", "ssh://git@github.com/o/r"),
        ("http://h.example/p?mail=a@b", "http://h.example/p?mail=a@b"),
    ],
)
def test_userinfo_passwords_are_masked(text: str, shown: str) -> None:
    assert mask_userinfo(text) == shown
    assert redact(text) == shown  # with no redactor active too
    with redacting():
        assert redact(text) == shown


def test_uri_messages_never_echo_url_credentials() -> None:
    mod = lookup("uri")
    assert mod is not None
    for run_on in ("host", "controller"):
        args, errors = prepare(
            mod, {"url": f"http://deploy:{PW}@127.0.0.1:9/x", "timeout": 2, "run_on": run_on}
        )
        assert not errors
        ctx = ModuleContext(
            host="h1", conn=LocalConnection("h1"), args=args, variables={}, templar=Renderer()
        )
        res = mod.run(ctx)
        assert res.failed
        assert PW not in res.msg and PW not in res.stdout + res.stderr, res.msg
        assert "deploy:********@" in res.msg


class _Ok(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: Any) -> None:
        return None


@pytest.fixture
def server() -> Iterator[str]:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Ok)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_secret_arguments_are_masked_in_all_later_output(
    tmp_path: Path, server: str, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "hosts.yml").write_text("all:\n  hosts:\n    ctl: {ansible_connection: local}\n")
    (tmp_path / "play.yml").write_text(
        textwrap.dedent(
            f"""
            - hosts: all
              gather_facts: false
              tasks:
                - name: download with a password
                  get_url:
                    url: "http://{server}/f"
                    dest: "{tmp_path}/f"
                    url_username: deploy
                    url_password: {PW}
                - name: a careless echo
                  shell: "echo the password is {PW}"
                - name: a careless URL
                  debug: {{msg: "http://deploy:{PW}@{server}/"}}
            """
        )
    )
    book, inv = str(tmp_path / "play.yml"), str(tmp_path / "hosts.yml")
    assert main(["run", book, "-i", inv, "--json"]) == 0
    out = capsys.readouterr()
    events = [json.loads(line) for line in out.out.splitlines()]
    echoed = [e for e in events if e.get("task") == "a careless echo"]
    assert echoed and echoed[-1]["stdout"].strip() == "the password is ********"
    assert PW not in out.out + out.err
    assert main(["run", book, "-i", inv]) == 0
    console = capsys.readouterr()
    assert "the password is ********" in console.out + console.err
    assert PW not in console.out + console.err
