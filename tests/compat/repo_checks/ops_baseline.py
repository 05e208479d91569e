"""ops_baseline: /etc/hosts, environment files, backups with cron, login and SSH hardening:
lineinfile/blockinfile/replace/template with validate, cron, user/group, symbolic modes."""

from __future__ import annotations

from typing import Any

from tests.compat.repo_checks.footprint import Footprint

FOOTPRINT = Footprint(
    made=(
        "/srv/fkrepo/ops_baseline",
        "/etc/default/fkr-app",
        "/var/backups/fkr",
        "/usr/local/sbin/fkr-backup",
        "/usr/local/bin/fkr-backup",
        "/etc/cron.d/fkr-backup",
        "/etc/ssh/sshd_config.d/60-fkr-hardening.conf",
        "/var/log/fkr-audit.log",
    ),
    edited=("/etc/hosts", "/etc/environment", "/etc/login.defs", "/etc/security/limits.conf"),
    users=("fkr_backup",),
    groups=("fkr_backup",),
    # The state an older deployment left: a stale hosts entry, a legacy variable, the
    # hourly job this site retires; the lab hosts' busybox gives cron modules a crontab.
    prepare="""
        set -e
        echo '10.40.0.5 backup-old.prod.example.com backup-old' >> /etc/hosts
        echo 'LEGACY_MODE=1' >> /etc/environment
        printf '#Ansible: fkr hourly backup\\n0 * * * * fkr_backup /bin/true\\n' \\
            > /etc/cron.d/fkr-backup
        if ! command -v crontab >/dev/null; then
            ln -s /bin/busybox /usr/local/bin/crontab
            mkdir -p /var/spool/cron/crontabs  # as Debian's cron package has it
        fi
    """,
    undo="""
        if [ "$(readlink /usr/local/bin/crontab)" = /bin/busybox ]; then
            rm /usr/local/bin/crontab && rm -rf /var/spool/cron
        fi
    """,
)


def test_hosts_file(host: Any) -> None:
    hosts = host.file("/etc/hosts").content_string
    assert (
        "# BEGIN ANSIBLE MANAGED: fleet hosts\n"
        "10.40.0.31 db1.prod.example.com db1\n"
        "10.40.0.90 vault1.prod.example.com vault1\n"
        "# END ANSIBLE MANAGED: fleet hosts\n"
    ) in hosts
    assert "backup-old" not in hosts
    assert "198.18.0.1\tfleetkit-lab-gateway" in hosts


def test_environment(host: Any) -> None:
    env = host.file("/etc/environment").content_string.splitlines()
    assert env[0] == "FKR_REGION=eu-central"
    assert "FKR_ENV=production" in env
    assert not [line for line in env if line.startswith("LEGACY_")]
    app = host.file("/etc/default/fkr-app")
    assert app.mode == 0o640
    assert 'APP_WORKERS="6"' in app.content_string
    dotenv = host.file("/srv/fkrepo/ops_baseline/etc/.env").content_string
    assert "DATABASE_URL=postgres://app@localhost:5432/app\n" in dotenv


def test_backups(host: Any) -> None:
    user = host.user("fkr_backup")
    assert user.shell == "/usr/sbin/nologin"
    assert "adm" in user.groups
    for path in ("/var/backups/fkr", "/var/backups/fkr/archive", "/var/backups/fkr/archive/daily"):
        folder = host.file(path)
        assert (folder.mode, folder.user) == (0o750, "fkr_backup"), path
    script = host.file("/usr/local/sbin/fkr-backup")
    assert script.mode == 0o750
    assert host.run("sh -n /usr/local/sbin/fkr-backup").rc == 0
    cron = host.file("/etc/cron.d/fkr-backup").content_string
    assert "30 2 * * * fkr_backup /usr/local/sbin/fkr-backup daily" in cron
    assert "@weekly fkr_backup /usr/local/sbin/fkr-backup weekly" in cron
    assert "hourly" not in cron
    assert host.file("/usr/local/bin/fkr-backup").linked_to == "/usr/local/sbin/fkr-backup"


def test_hardening(host: Any) -> None:
    defs = host.file("/etc/login.defs").content_string
    assert "\nPASS_MAX_DAYS\t90\n" in defs
    assert "\nUMASK\t\t027\n" in defs
    dropin = host.file("/etc/ssh/sshd_config.d/60-fkr-hardening.conf")
    assert dropin.mode == 0o600
    assert "PermitRootLogin no" in dropin.content_string
    assert host.run("sshd -t -f /etc/ssh/sshd_config.d/60-fkr-hardening.conf").rc == 0
    limits = host.file("/etc/security/limits.conf").content_string
    assert limits.index("hard    core") < limits.index("# End of file")
    assert host.file("/var/log/fkr-audit.log").mode == 0o640
    assert not host.file("/etc/sysctl.d/60-fkr-hardening.conf").exists


def test_recursive_modes(host: Any) -> None:
    assert host.file("/srv/fkrepo/ops_baseline/etc").mode == 0o750
    assert host.file("/srv/fkrepo/ops_baseline/etc/backup.conf").mode == 0o640
    assert host.file("/srv/fkrepo/ops_baseline/etc/.env").mode == 0o640
