"""user: a local account present (with its groups, shell, home, password...) or absent.

ansible-core 2.19's user module on Linux (its generic User class: useradd, usermod,
userdel, chage, ssh-keygen), ported: one probe reads the account (passwd, shadow,
every group, usermod's --append, login.defs), the command Ansible would build runs
only for what differs, and the registered value has Ansible's keys (name, state,
uid, group, comment, home, shell, groups, system/create_home for a new account,
append/move_home for an existing one, force/remove when removed, password as
NOT_LOGGING_PASSWORD, ssh_* for a generated key, stdout/stderr, warnings).

Deliberate differences: a password hash never goes on a command line (`ps` shows those
to every local user): `chpasswd -e` reads it from stdin after useradd/usermod, with
the same result in /etc/shadow; a hash holding ':' or a line break is refused (it
would corrupt the shadow file); `local: true` (libuser) and `ssh_key_passphrase` (typed
into ssh-keygen on a terminal) are refused.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from fleetkit.modules.base import Arg, Module, ModuleContext, ModuleResult, fail
from fleetkit.modules.remote import q

HASH_CHARS = re.compile(r"[^a-zA-Z0-9./=]")
HASH_LENGTHS = {"1": 22, "5": 43, "6": 86, "y": 43}
NOT_HASHED = (
    "The input password appears not to have been hashed. "
    "The 'password' argument must be encrypted for this module to work properly."
)
MARK = "__fk_"


def probe_script(name: str, home: str | None) -> str:
    """The account, its shadow entry, every group, usermod's --append, login.defs."""
    n = q(name)
    parent = ""
    if home is not None:
        parent = f'[ -d "$(dirname -- {q(home)})" ] && echo {MARK}parent=yes; '
    return (
        f'echo "{MARK}P=$(getent passwd {n})"; echo "{MARK}S=$(getent shadow {n})"; '
        f'getent group | sed "s/^/{MARK}G=/"; '
        f'usermod --help 2>&1 | grep -q -- "-a, --append" && echo {MARK}append=yes; '
        f"[ -f /etc/login.defs ] && echo {MARK}defs=yes && "
        f"grep -E '^(HOME_MODE|UMASK)[[:space:]]' /etc/login.defs | sed 's/^/{MARK}D=/'; "
        f"{parent}"
        f'echo "{MARK}host=$(hostname 2>/dev/null || uname -n)"; true'
    )


@dataclass(frozen=True)
class Account:
    """What the probe read."""

    passwd: list[str] | None
    shadow: list[str] | None
    groups: list[list[str]] = field(default_factory=list)
    has_append: bool = True
    login_defs: bool = False
    defs: tuple[str, ...] = ()
    parent_exists: bool = False
    hostname: str = ""

    @property
    def exists(self) -> bool:
        return self.passwd is not None

    def password(self) -> str:
        """info[1]: the shadow hash when passwd holds a placeholder (x)."""
        assert self.passwd is not None
        if len(self.passwd[1]) <= 1:
            return self.shadow[1] if self.shadow else ""
        return self.passwd[1]

    def shadow_int(self, index: int) -> int:
        """A shadow number field (-1 when empty, as getspnam gives it)."""
        if not self.shadow or len(self.shadow) <= index or not self.shadow[index].strip():
            return -1
        try:
            return int(self.shadow[index])
        except ValueError:
            return -1

    def group(self, ref: str) -> list[str] | None:
        """group_info: by gid first, then by name."""
        if ref.strip().lstrip("-").isdigit():
            found = next((g for g in self.groups if g[2] == str(int(ref))), None)
            if found is not None:
                return found
        return next((g for g in self.groups if g[0] == ref), None)

    def member_of(self, name: str) -> list[str]:
        """The groups whose member list names the user (its primary one too when listed)."""
        return [g[0] for g in self.groups if len(g) > 3 and name in g[3].split(",")]

    def home_mode(self) -> int | None:
        """create_homedir's mode from login.defs (HOME_MODE, else 0777 less UMASK)."""
        if not self.login_defs:
            return None
        mode = 0o755
        for line in self.defs:
            m = re.match(r"^HOME_MODE\s+(\d+)$", line)
            if m:
                return int(m.group(1), 8)
            m = re.match(r"^UMASK\s+(\d+)$", line)
            if m:
                mode = 0o777 & ~int(m.group(1), 8)
        return mode


def parse_probe(stdout: str) -> Account:
    passwd: list[str] | None = None
    shadow: list[str] | None = None
    groups: list[list[str]] = []
    defs: list[str] = []
    flags: dict[str, str] = {}
    for line in stdout.splitlines():
        if not line.startswith(MARK):
            continue
        key, _, value = line[len(MARK) :].partition("=")
        if key == "P" and value:
            passwd = value.split(":")
        elif key == "S" and value:
            shadow = value.split(":")
        elif key == "G" and value:
            groups.append(value.split(":"))
        elif key == "D":
            defs.append(value)
        else:
            flags[key] = value
    return Account(
        passwd=passwd,
        shadow=shadow,
        groups=groups,
        has_append=flags.get("append") == "yes",
        login_defs=flags.get("defs") == "yes",
        defs=tuple(defs),
        parent_exists=flags.get("parent") == "yes",
        hostname=flags.get("host", ""),
    )


class AccountError(Exception):
    """Ansible's fail_json (its message)."""


def password_warning(password: str | None) -> str | None:
    """check_password_encrypted: Ansible's warning for what does not look like a hash."""
    if not password or password in ("*", "!", "*************"):
        return None
    bad = any(c in password for c in ":*!") or "$" not in password
    if not bad:
        fields = password.split("$")
        if len(fields) < 3:
            bad = True
        else:
            last = fields[-1]
            bad = bool(HASH_CHARS.search(last)) or (
                fields[1] in HASH_LENGTHS and len(last) != HASH_LENGTHS[fields[1]]
            )
    return NOT_HASHED if bad else None


class User(Module):
    name = "user"
    args: ClassVar[dict[str, Arg]] = {
        "name": Arg("str", required=True, aliases=("user",)),
        "state": Arg("str", default="present", choices=("present", "absent")),
        "uid": Arg("int"),
        "non_unique": Arg("bool", default=False),
        "group": Arg("str"),
        "groups": Arg("raw"),
        "append": Arg("bool", default=False),
        "comment": Arg("str"),
        "home": Arg("path"),
        "shell": Arg("path"),
        "password": Arg("str", secret=True),
        "update_password": Arg("str", default="always", choices=("always", "on_create")),
        "password_lock": Arg("bool"),
        "expires": Arg("float"),
        "password_expire_max": Arg("int"),
        "password_expire_min": Arg("int"),
        "password_expire_warn": Arg("int"),
        "password_expire_account_disable": Arg("int"),
        "create_home": Arg("bool", default=True, aliases=("createhome",)),
        "move_home": Arg("bool", default=False),
        "skeleton": Arg("str"),
        "umask": Arg("str"),
        "system": Arg("bool", default=False),
        "force": Arg("bool", default=False),
        "remove": Arg("bool", default=False),
        "uid_min": Arg("int"),
        "uid_max": Arg("int"),
        "seuser": Arg("str"),
        "generate_ssh_key": Arg("bool"),
        "ssh_key_bits": Arg("int", default=0),
        "ssh_key_type": Arg("str", default="rsa"),
        "ssh_key_file": Arg("path"),
        "ssh_key_comment": Arg("str"),
        "ssh_key_passphrase": Arg("str", secret=True),
        "local": Arg("bool"),
        # other platforms' options: Ansible's Linux user class takes and ignores them
        "hidden": Arg("bool"),
        "login_class": Arg("str"),
        "profile": Arg("str"),
        "authorization": Arg("str"),
        "role": Arg("str"),
    }

    def check_args(self, args: Mapping[str, Any]) -> list[str]:
        errors = []
        password = args.get("password")
        if password is not None and any(c in str(password) for c in ":\n\0"):
            errors.append("module user: password must be a crypt hash (no ':' or line break)")
        if args.get("local"):
            errors.append("module user: local: true (luseradd, libuser) is not supported")
        if args.get("ssh_key_passphrase") is not None:
            errors.append(
                "module user: ssh_key_passphrase is not supported (ssh-keygen reads it from a"
                " terminal): generate the key without one, or with openssh_keypair"
            )
        groups = args.get("groups")
        if groups is not None and not isinstance(groups, (str, list, tuple)):
            errors.append("module user: groups must be a list of group names")
        return errors

    def run(self, ctx: ModuleContext) -> ModuleResult:
        try:
            return _Run(ctx).run()
        except _Failed as err:
            value = {"changed": False, "msg": str(err), "name": err.name, "rc": err.rc}
            return fail(str(err), rc=err.rc, registered={**value, "failed": True})
        except AccountError as err:
            return fail(str(err), registered={"changed": False, "msg": str(err), "failed": True})


class _Run:
    """One user task on one host, in Ansible's order."""

    def __init__(self, ctx: ModuleContext) -> None:
        self.ctx = ctx
        self.name = str(ctx.arg("name"))
        raw = ctx.arg("groups")
        if raw is None:
            self.groups: str | None = None
        elif isinstance(raw, str):
            self.groups = raw
        else:
            self.groups = ",".join(str(g) for g in raw)
        self.warnings: list[str] = []
        self.stdin_password: str | None = None

    def arg(self, name: str) -> Any:
        return self.ctx.arg(name)

    def probe(self) -> Account:
        res = self.ctx.run(probe_script(self.name, self.arg("home")))
        if not res.ok:
            raise AccountError(f"cannot look up user {self.name}: {res.stderr.strip()}")
        return parse_probe(res.stdout)

    def run(self) -> ModuleResult:
        warning = password_warning(self.arg("password"))
        if warning:
            self.warnings.append(warning)
        if self.groups is None and self.arg("append"):
            self.warnings.append(
                "'append' is set, but no 'groups' are specified. Use 'groups' for appending"
                " new groups.This will change to an error in Ansible 2.14."
            )
        account = self.probe()
        result: dict[str, Any] = {"name": self.name, "state": self.arg("state")}
        if self.arg("state") == "absent":
            return self.absent(account, result)
        if not account.exists:
            if self.ctx.check:
                return self.finish({"changed": True})
            rc, out, err = self.create(account)
            result["system"] = bool(self.arg("system"))
            result["create_home"] = bool(self.arg("create_home"))
        else:
            rc, out, err = self.modify(account)
            result["append"] = bool(self.arg("append"))
            result["move_home"] = bool(self.arg("move_home"))
        if rc is not None and rc != 0:
            raise_failed(self.name, err, rc)
        if self.arg("password") is not None:
            result["password"] = "NOT_LOGGING_PASSWORD"
        result["changed"] = rc is not None
        if out:
            result["stdout"] = out
        if err:
            result["stderr"] = err
        return self.after(result)

    # absent ------------------------------------------------------------------------

    def absent(self, account: Account, result: dict[str, Any]) -> ModuleResult:
        if not account.exists:
            return self.finish({**result, "changed": False})
        if self.ctx.check:
            return self.finish({"changed": True})
        flags = ("-f " if self.arg("force") else "") + ("-r " if self.arg("remove") else "")
        done = self.ctx.run(f"userdel {flags}{q(self.name)}")
        if not done.ok:
            raise_failed(self.name, done.stderr, done.rc)
        result.update(force=bool(self.arg("force")), remove=bool(self.arg("remove")))
        result["changed"] = True
        if done.stdout:
            result["stdout"] = done.stdout
        if done.stderr:
            result["stderr"] = done.stderr
        return self.finish(result)

    # present -----------------------------------------------------------------------

    def create(self, account: Account) -> tuple[int | None, str, str]:
        """create_user_useradd (the password, if any, then set through chpasswd -e)."""
        opts: list[str] = []
        if self.arg("uid") is not None:
            opts += ["-u", str(self.arg("uid"))]
            if self.arg("non_unique"):
                opts.append("-o")
        if self.arg("seuser") is not None:
            opts += ["-Z", str(self.arg("seuser"))]
        if self.arg("group") is not None:
            if account.group(str(self.arg("group"))) is None:
                raise AccountError(f"Group {self.arg('group')} does not exist")
            opts += ["-g", str(self.arg("group"))]
        elif account.group(self.name) is not None:
            opts.append("-N")
        if self.groups:
            opts += ["-G", ",".join(sorted(self.group_set(account, None)))]
        if self.arg("comment") is not None:
            opts += ["-c", str(self.arg("comment"))]
        pre = ""
        home = self.arg("home")
        if home is not None:
            if self.arg("create_home") and not account.parent_exists:
                pre = self.homedir_script(account, str(home)) + " && "
            opts += ["-d", str(home)]
        if self.arg("shell") is not None:
            opts += ["-s", str(self.arg("shell"))]
        expires = self.arg("expires")
        if expires is not None:
            opts += ["-e", "" if expires < 0 else time.strftime("%Y-%m-%d", time.gmtime(expires))]
        if self.arg("password_expire_account_disable") is not None:
            opts += ["-f", str(int(self.arg("password_expire_account_disable")))]
        if self.arg("password") is not None:
            lock = "!" if self.arg("password_lock") else ""
            self.stdin_password = f"{lock}{self.arg('password')}"
        if self.arg("create_home"):
            opts.append("-m")
            if self.arg("skeleton") is not None:
                opts += ["-k", str(self.arg("skeleton"))]
            if self.arg("umask") is not None:
                opts += ["-K", f"UMASK={self.arg('umask')}"]
        else:
            opts.append("-M")
        if self.arg("system"):
            opts.append("-r")
        if self.arg("uid_min") is not None:
            opts += ["-K", f"UID_MIN={self.arg('uid_min')}"]
        if self.arg("uid_max") is not None:
            opts += ["-K", f"UID_MAX={self.arg('uid_max')}"]
        command = pre + " ".join(["useradd", *map(q, opts), q(self.name)])
        rc, out, err = self.execute(command)
        if rc == 0 and pre:
            self.chown_home(str(home))
        return rc, out, err

    def modify(self, account: Account) -> tuple[int | None, str, str]:
        """modify_user_usermod: the usermod options for what differs."""
        assert account.passwd is not None
        info = account.passwd
        opts: list[str] = []
        if self.arg("uid") is not None and int(info[2]) != int(self.arg("uid")):
            opts += ["-u", str(self.arg("uid"))]
            if self.arg("non_unique"):
                opts.append("-o")
        if self.arg("group") is not None:
            found = account.group(str(self.arg("group")))
            if found is None:
                raise AccountError(f"Group {self.arg('group')} does not exist")
            if info[3] != found[2]:
                opts += ["-g", found[2]]
        if self.groups is not None:
            opts += self.group_options(account)
        if self.arg("comment") is not None and info[4] != self.arg("comment"):
            opts += ["-c", str(self.arg("comment"))]
        if self.arg("home") is not None and info[5] != self.arg("home"):
            opts += ["-d", str(self.arg("home"))]
            if self.arg("move_home"):
                opts.append("-m")
        if self.arg("shell") is not None and info[6] != self.arg("shell"):
            opts += ["-s", str(self.arg("shell"))]
        opts += self.expires_options(account)
        if self.arg("password_expire_account_disable") is not None:
            opts += ["-f", str(self.arg("password_expire_account_disable"))]
        current = account.password()
        lock = self.arg("password_lock")
        if lock and not current.startswith("!"):
            opts.append("-L")
        elif lock is False and current.startswith("!"):
            opts.append("-U")
        password = self.arg("password")
        if (
            self.arg("update_password") == "always"
            and password is not None
            and current.lstrip("!") != str(password).lstrip("!")
        ):
            opts = [o for o in opts if o not in ("-U", "-L")]
            self.stdin_password = f"{'!' if lock else ''}{password}"
        if not opts and self.stdin_password is None:
            return None, "", ""
        command = " ".join(["usermod", *map(q, opts), q(self.name)]) if opts else ""
        return self.execute(command)

    def group_set(self, account: Account, primary_gid: str | None) -> set[str]:
        """get_groups_set: the groups asked for (each must exist), less the primary one."""
        assert self.groups is not None
        out: set[str] = set()
        for g in {x.strip() for x in self.groups.split(",") if x}:
            found = account.group(g)
            if found is None:
                raise AccountError(f"Group {g} does not exist")
            if primary_gid is not None and found[2] == primary_gid:
                continue
            out.add(g)
        return out

    def group_options(self, account: Account) -> list[str]:
        """usermod's -G (with -a to append) when the membership differs."""
        assert self.groups is not None
        current = account.member_of(self.name)
        append = bool(self.arg("append"))
        if self.groups == "":
            return ["-G", ""] if current and not append else []
        names: set[str] = set()
        for g in {x.strip() for x in self.groups.split(",") if x}:
            found = account.group(g)
            if found is None:
                raise AccountError(f"Group {g} does not exist")
            names.add(found[0])
        diff = set(current).symmetric_difference(names)
        if not diff:
            return []
        if append and not any(g in diff for g in names):
            return []
        lead = ["-a"] if append and account.has_append else []
        if append and not account.has_append:
            return ["-A", ",".join(sorted(diff))]
        return [*lead, "-G", ",".join(sorted(names))]

    def expires_options(self, account: Account) -> list[str]:
        expires = self.arg("expires")
        if expires is None:
            return []
        current = account.shadow_int(7)
        if expires < 0:
            return ["-e", ""] if current >= 0 else []
        wanted = time.gmtime(expires)
        have = time.gmtime(current * 86400)
        if current < 0 or have[:3] != wanted[:3]:
            return ["-e", time.strftime("%Y-%m-%d", wanted)]
        return []

    def execute(self, command: str) -> tuple[int | None, str, str]:
        """Run command (check mode: as Ansible, rc 0 without running), then the password."""
        if self.ctx.check:
            return 0, "", ""
        stdin = None
        if self.stdin_password is not None:
            command = f"{command} && chpasswd -e" if command else "chpasswd -e"
            stdin = f"{self.name}:{self.stdin_password}\n".encode()
        done = self.ctx.run(command, stdin=stdin)
        return done.rc, done.stdout, done.stderr

    # after the account exists ----------------------------------------------------

    def after(self, result: dict[str, Any]) -> ModuleResult:
        account = self.probe()
        if not account.exists:
            return self.finish(result)
        info = account.passwd
        assert info is not None
        result.update(
            uid=int(info[2]), group=int(info[3]), comment=info[4], home=info[5], shell=info[6]
        )
        if self.groups is not None:
            result["groups"] = self.groups
        home = str(self.arg("home") if self.arg("home") is not None else info[5])
        exists = self.ctx.run(f"[ -e {q(home)} ]").ok
        if not exists and self.arg("create_home"):
            if not self.ctx.check:
                made = self.ctx.run(self.homedir_script(account, home))
                if not made.ok:
                    raise AccountError(made.stderr.strip())
                self.chown_home(home, info)
            result["changed"] = True
        if self.arg("generate_ssh_key"):
            self.ssh_key(account, info, result)
        self.password_expiry(account, result)
        return self.finish(result)

    def homedir_script(self, account: Account, home: str) -> str:
        """create_homedir: the skeleton copied (else a folder), its mode from login.defs."""
        skel = str(self.arg("skeleton") or "/etc/skel")
        h, s = q(home), q(skel)
        script = (
            f'if [ ! -e {h} ]; then mkdir -p -- "$(dirname -- {h})" && '
            f"if [ -e {s} ] && [ {s} != /dev/null ]; then cp -a -- {s} {h}; "
            f"else mkdir -p -- {h}; fi"
        )
        mode = account.home_mode()
        if mode is not None:
            script += f" && chmod {mode:04o} {h}"
        return script + "; fi"

    def chown_home(self, home: str, info: list[str] | None = None) -> None:
        if info is None:
            account = self.probe()
            info = account.passwd
        if info is None:
            return
        owner = f"{info[2]}:{info[3]}"
        h = q(home)
        done = self.ctx.run(
            f"chown {owner} {h} && find {h} -mindepth 1 ! -type l -exec chown {owner} {{}} +"
        )
        if not done.ok:
            raise AccountError(done.stderr.strip())

    def ssh_key(self, account: Account, info: list[str], result: dict[str, Any]) -> None:
        """ssh_key_gen, ssh_key_fingerprint and the public key, as Ansible's."""
        kind = str(self.arg("ssh_key_type"))
        key_file = str(self.arg("ssh_key_file") or f".ssh/id_{kind}")
        if not key_file.startswith("/"):
            key_file = f"{info[5].rstrip('/')}/{key_file}"
        comment = self.arg("ssh_key_comment") or f"ansible-generated on {account.hostname}"
        owner = f"{info[2]}:{info[3]}"
        k, p = q(key_file), q(f"{key_file}.pub")
        probe = self.ctx.run(
            f'[ -d "$(dirname -- {k})" ] && echo dir; [ -e {k} ] && echo key;'
            f" [ -e {p} ] && echo pub; [ -e {q(info[5])} ] && echo home; true"
        )
        seen = set(probe.stdout.split())
        relative = not str(self.arg("ssh_key_file") or "").startswith("/")
        if relative and "home" not in seen and not self.ctx.check:
            raise_failed(self.name, f"User {self.name} home directory does not exist", 1)
        generate = True
        overwrite = False
        if "key" in seen:
            if self.arg("force"):
                self.warnings.append(f'Overwriting existing ssh key private file "{key_file}"')
                overwrite = True
            else:
                self.warnings.append(
                    f'Found existing ssh key private file "{key_file}", no force, so skipping'
                    " ssh-keygen generation"
                )
                generate = False
        elif "pub" in seen:
            if self.arg("force"):
                self.warnings.append(f'Overwriting existing ssh key public file "{key_file}.pub"')
            else:
                self.warnings.append(
                    f'Found existing ssh key public file "{key_file}.pub", no force, so skipping'
                    " ssh-keygen generation"
                )
                generate = False
        if generate:
            if not self.ctx.check:
                bits = int(self.arg("ssh_key_bits") or 0)
                steps = []
                if "dir" not in seen:
                    steps.append(
                        f'mkdir -m 0700 -- "$(dirname -- {k})" && chown {owner} "$(dirname -- {k})"'
                    )
                if "pub" in seen and self.arg("force"):
                    steps.append(f"rm -f -- {p}")
                keygen = ["ssh-keygen", "-t", kind]
                if bits > 0:
                    keygen += ["-b", str(bits)]
                keygen += ["-C", str(comment), "-f", key_file, "-N", ""]
                answer = "echo y | " if overwrite else ""
                steps.append(answer + " ".join(q(w) for w in keygen))
                steps.append(f"chown {owner} {k} {p}")
                done = self.ctx.run(" && ".join(steps))
                if not done.ok:
                    raise_failed(self.name, done.stderr, done.rc)
            result["changed"] = True
        finger = self.ctx.run(f"if [ -e {k} ]; then ssh-keygen -l -f {k}; else exit 99; fi")
        if finger.rc == 0:
            result["ssh_fingerprint"] = finger.stdout.strip()
        else:  # a missing key: Ansible's message goes to stdout, the fingerprint is stderr's
            result["ssh_fingerprint"] = "" if finger.rc == 99 else finger.stderr.strip()
        result["ssh_key_file"] = key_file
        public = self.ctx.run(f"cat -- {p}")
        result["ssh_public_key"] = public.stdout.strip() if public.ok else None

    def password_expiry(self, account: Account, result: dict[str, Any]) -> None:
        """set_password_expire: chage for the min/max/warn days that differ."""
        wanted = {
            "-m": (self.arg("password_expire_min"), 3),
            "-M": (self.arg("password_expire_max"), 4),
            "-W": (self.arg("password_expire_warn"), 5),
        }
        opts: list[str] = []
        fresh = self.probe() if any(v is not None for v, _ in wanted.values()) else account
        for flag, (value, index) in wanted.items():
            if value is not None and int(value) != fresh.shadow_int(index):
                opts += [flag, str(int(value))]
        if not opts:
            return
        if not self.ctx.check:
            done = self.ctx.run(" ".join(["chage", *opts, q(self.name)]))
            if not done.ok:
                raise_failed(self.name, done.stderr, done.rc)
        result["changed"] = True

    def finish(self, value: dict[str, Any]) -> ModuleResult:
        if self.warnings:
            value["warnings"] = list(self.warnings)
        for key in ("stdout", "stderr"):  # as the task executor adds them
            if key in value:
                value[f"{key}_lines"] = str(value[key]).splitlines()
        changed = bool(value.get("changed"))
        verb = "would change" if self.ctx.check and changed else ("changed" if changed else "ok")
        return ModuleResult(
            changed=changed,
            msg=f"user {self.name}: {verb}",
            registered={**value, "failed": False},
        )


def raise_failed(name: str, err: str, rc: int | None) -> None:
    """fail_json(name=..., msg=err, rc=rc) as Ansible's user module does it."""
    raise _Failed(name, err, rc)


class _Failed(AccountError):
    def __init__(self, name: str, err: str, rc: int | None) -> None:
        super().__init__(err)
        self.name = name
        self.rc = rc
