"""The one shell script that gathers a host's facts: raw inputs, parsed on the controller.

The host runs one POSIX sh script (one round trip) that prints what Ansible's
fact collectors read: files (`/etc/os-release`, sysfs attributes, `/proc/*`),
the output of the same commands (`ip -4 route get 8.8.8.8`, `lsb_release -a`,
`lsblk`, ...), and one small Python probe for the values only the host's
interpreter knows (its version, `socket.getfqdn()`, `getpass.getuser()`, the
time zone's names, libselinux). The controller turns the dump into Ansible's
facts (dump.py, then one module per collector family). Records, one a line:

    V<TAB>key<TAB>value            a value the script computed
    S<TAB>path<TAB>first line      a readable one-line file, read with the shell's read
    X<TAB>path<TAB>kind            what a path is: l link, d dir, f file, e exists, r, x
    L<TAB>path<TAB>line            each line of a readable text file (one awk for all)
    D<TAB>dir<TAB>entry            a directory's entries, in readdir order
    B<TAB>name ... Z<TAB>name<TAB>rc   a command's raw output between markers

Sysfs and /proc are read with shell builtins, so the script forks a few dozen
commands whatever the number of interfaces and disks.
"""

from __future__ import annotations

import shlex

FALLBACK = (
    "python3.13",
    "python3.12",
    "python3.11",
    "python3.10",
    "python3.9",
    "python3.8",
    "/usr/bin/python3",
    "python3",
)
"""ansible-core 2.19's INTERPRETER_PYTHON_FALLBACK: discovery takes the first found."""

PYTHON_PROBE = r"""
import json, os, platform, socket, sys, time
d = {}
d["env"] = dict(os.environ)
v = sys.version_info
d["version_info"] = [v[0], v[1], v[2], v[3], v[4]]
d["executable"] = sys.executable
impl = getattr(sys, "implementation", None)
d["type"] = getattr(impl, "name", None)
try:
    from ssl import create_default_context, SSLContext
    d["sslcontext"] = True
except ImportError:
    d["sslcontext"] = False
u = platform.uname()
d["uname"] = [u[0], u[1], u[2], u[3], u[4]]
d["python_version"] = platform.python_version()
d["bits"] = platform.architecture()[0]
d["fqdn"] = socket.getfqdn()
d["has_ipv6"] = bool(socket.has_ipv6)
try:
    import getpass, pwd
    user = getpass.getuser()
    d["user"] = user
    try:
        pw = pwd.getpwnam(user)
    except KeyError:
        pw = pwd.getpwuid(os.getuid())
    d["pw"] = [pw.pw_name, pw.pw_uid, pw.pw_gid, pw.pw_gecos, pw.pw_dir, pw.pw_shell]
except Exception:
    pass
d["ids"] = [os.getuid(), os.geteuid(), os.getgid()]
now = time.time()
d["time"] = [now, time.strftime("%Z"), time.tzname[1], time.strftime("%z")]
try:
    d["loadavg"] = list(os.getloadavg())
except (OSError, AttributeError):
    pass
try:
    d["nproc"] = len(os.sched_getaffinity(0))
except AttributeError:
    pass
if os.environ.get("debian_chroot", False):
    d["chroot"] = True
else:
    try:
        a = os.stat("/")
        b = os.stat("/proc/1/root/.")
        d["chroot"] = a.st_ino != b.st_ino or a.st_dev != b.st_dev
    except Exception:
        d["root_ino"] = os.stat("/").st_ino
try:
    from ctypes import CDLL, byref, c_char_p, c_int
    lib = CDLL("libselinux.so.1", use_errno=True)
    for name in ("is_selinux_enabled", "is_selinux_mls_enabled", "lgetfilecon_raw",
                 "matchpathcon", "security_policyvers", "selinux_getenforcemode",
                 "security_getenforce", "lsetfilecon", "selinux_getpolicytype"):
        getattr(lib, name)
except (OSError, AttributeError, ImportError):
    lib = None
if lib is not None:
    se = {"enabled": lib.is_selinux_enabled()}
    if se["enabled"]:
        se["policyvers"] = lib.security_policyvers()
        mode = c_int()
        se["config_mode"] = [lib.selinux_getenforcemode(byref(mode)), mode.value]
        se["mode"] = lib.security_getenforce()
        con = c_char_p()
        rc = lib.selinux_getpolicytype(byref(con))
        se["type"] = [rc, con.value.decode() if con.value else None]
    d["selinux"] = se
print(json.dumps(d))
"""

FACTS_MARKER = "# fleetkit facts"
"""The script's first line (fakes in tests recognise the fact command by it)."""

HELPERS = r"""# fleetkit facts: the host's raw fact inputs, parsed on the controller
exec 2>/dev/null
r() { printf 'V\t%s\t%s\n' "$1" "$2"; }
s() {
  for fk_p; do
    if [ -f "$fk_p" ] && [ -r "$fk_p" ]; then
      fk_v=; IFS= read -r fk_v < "$fk_p"; printf 'S\t%s\t%s\n' "$fk_p" "$fk_v"
    fi
  done
}
x() {
  for fk_p; do
    fk_k=
    [ -L "$fk_p" ] && fk_k=l
    if [ -d "$fk_p" ]; then fk_k="${fk_k}d"; elif [ -f "$fk_p" ]; then fk_k="${fk_k}f"
    elif [ -e "$fk_p" ]; then fk_k="${fk_k}e"; fi
    [ -z "$fk_k" ] && continue
    [ -r "$fk_p" ] && fk_k="${fk_k}r"
    [ -x "$fk_p" ] && fk_k="${fk_k}x"
    printf 'X\t%s\t%s\n' "$fk_p" "$fk_k"
  done
}
m() {
  fk_n=$#
  while [ "$fk_n" -gt 0 ]; do
    fk_p=$1; shift; fk_n=$((fk_n - 1))
    if [ -f "$fk_p" ] && [ -r "$fk_p" ]; then
      printf 'X\t%s\tfr\n' "$fk_p"; set -- "$@" "$fk_p"
    fi
  done
  [ $# -gt 0 ] && awk '{ printf "L\t%s\t%s\n", FILENAME, $0 }' "$@"
}
dl() {
  [ -d "$1" ] || return 0
  { ls -f "$1" || for fk_e in "$1"/* "$1"/.[!.]*; do
      { [ -e "$fk_e" ] || [ -L "$fk_e" ]; } && printf '%s\n' "${fk_e##*/}"
    done; } | while IFS= read -r fk_e; do
    case "$fk_e" in .|..) ;; *) printf 'D\t%s\t%s\n' "$1" "$fk_e" ;; esac
  done
}
b() { printf 'B\t%s\n' "$1"; }
z() { printf '\nZ\t%s\t%s\n' "$1" "$2"; }
c() { fk_c=$1; shift; b "$fk_c"; "$@"; fk_rc=$?; z "$fk_c" "$fk_rc"; return "$fk_rc"; }
lk() {
  fk_n=$#
  while [ "$fk_n" -gt 0 ]; do
    fk_p=$1; shift; fk_n=$((fk_n - 1)); [ -L "$fk_p" ] && set -- "$@" "$fk_p"
  done
  [ $# -gt 0 ] && { b ls; ls -ld "$@"; z ls $?; }
}
rp() { for fk_p; do [ -e "$fk_p" ] && r "realpath:$fk_p" "$(readlink -f "$fk_p")"; done; }
dm() {
  for fk_h in "$1"/holders/dm-*; do
    [ -e "$fk_h" ] && { printf 'X\t%s\td\n' "$fk_h"; s "$fk_h/dm/name"; }
  done
}
have() {
  fk_w=$(command -v "$1") || return 1
  case "$fk_w" in /*) r "bin:$1" "$fk_w"; return 0 ;; esac
  fk_s=$IFS; IFS=:  # a shell builtin or busybox applet: the file on PATH, as Ansible finds it
  for fk_d in $PATH; do
    if [ -x "$fk_d/$1" ] && [ ! -d "$fk_d/$1" ]; then IFS=$fk_s; r "bin:$1" "$fk_d/$1"; return 0; fi
  done
  IFS=$fk_s; return 1
}
on() { command -v "$1" >/dev/null; }
"""

BASE = r"""
# the interpreter's probe first: it sees the environment the host gives commands
fk_pyrc=127
if [ -n "$fk_py" ]; then b py; "$fk_py" -c "$fk_probe"; fk_pyrc=$?; z py "$fk_pyrc"; fi
if [ "$fk_pyrc" != 0 ]; then
  b env0; env -0 | base64; z env0 $?
  r uname_snrm "$(uname -s -n -r -m)"; r uname_v "$(uname -v)"
  r ids "$(id -u) $(id -g)"; r bits "$(getconf LONG_BIT)"
  fk_u="${LOGNAME:-${USER:-${LNAME:-${USERNAME:-}}}}"; r login "$fk_u"
  r date "$(date '+%s.%N %Z %z')"
  b passwd; getent passwd "${fk_u:-$(id -un)}" || getent passwd "$(id -u)"; z passwd $?
  fk_h=$(uname -n); fk_a=$(getent ahosts "$fk_h" | awk 'NR==1{print $1}')
  r fqdn_name "$fk_h"; [ -n "$fk_a" ] && { b fqdn; getent hosts "$fk_a"; z fqdn $?; }
  r nproc "$(nproc)"
  b chroot; stat -c '%d %i' / /proc/1/root/.; z chroot $?
  for fk_f in /lib/*/libselinux.so.1 /usr/lib/*/libselinux.so.1 /lib64/libselinux.so.1 \
    /usr/lib64/libselinux.so.1 /lib/libselinux.so.1 /usr/lib/libselinux.so.1; do
    [ -e "$fk_f" ] && { r libselinux "$fk_f"; break; }
  done
  s /sys/fs/selinux/enforce /sys/fs/selinux/policyvers; m /etc/selinux/config
fi
on stat && c rootfs stat -f --format=%T /
PATH="$PATH:/sbin:/usr/sbin:/usr/local/sbin"; export LC_ALL=C; export PATH
for fk_b in lsb_release capsh systemctl initctl ip ethtool lsblk findmnt udevadm dmidecode \
  vgs lvs pvs dmsetup lspci sg_inq lscpu dpkg rpm stat timeout; do have "$fk_b"; done
# platform, distribution, lsb, services, packages
s /var/lib/dbus/machine-id /etc/machine-id /proc/1/comm /proc/sys/crypto/fips_enabled \
  /proc/uptime /proc/loadavg /run/systemd/container /sys/hypervisor/type /etc/nvme/hostnqn
x /etc/altlinux-release /etc/oracle-release /etc/slackware-version /etc/centos-release \
  /etc/redhat-release /etc/vmware-release /etc/openwrt_release /etc/os-release \
  /etc/system-release /etc/alpine-release /etc/arch-release /etc/SuSE-release \
  /etc/gentoo-release /etc/lsb-release /etc/sourcemage-release /usr/lib/os-release \
  /etc/coreos/update.conf /etc/products.d/baseproduct /sbin/init \
  /run/systemd/system/ /dev/.run/systemd/ /dev/.systemd/ /etc/init/ /sbin/openrc \
  /etc/init.d/ /etc/dinit.d/ /sys/kernel/security/apparmor /run/ostree-booted \
  /usr/bin/dnf /usr/bin/microdnf /usr/bin/rpm /usr/bin/rpm-ostree /usr/bin/yum \
  /usr/bin/dnf-3 /usr/bin/dnf5 /usr/bin/apt-get /usr/bin/zypper /usr/sbin/urpmi \
  /usr/bin/pacman /bin/opkg /usr/pkg/bin/pkgin /opt/local/bin/pkgin /opt/tools/bin/pkgin \
  /opt/local/bin/port /usr/local/bin/brew /opt/homebrew/bin/brew /sbin/apk /usr/sbin/pkg \
  /usr/sbin/swlist /usr/bin/emerge /usr/sbin/pkgadd /usr/bin/pkg /usr/bin/xbps-install \
  /usr/local/sbin/pkg /usr/bin/swupd /usr/sbin/sorcery /usr/bin/installp "$fk_fact_path"
m /etc/os-release /usr/lib/os-release /etc/lsb-release /etc/*[-_]release /etc/*[-_]version \
  /etc/coreos/update.conf /etc/resolv.conf /proc/cmdline /etc/iscsi/initiatorname.iscsi \
  /sys/class/fc_host/*/port_name
lk /etc/products.d/baseproduct /sbin/init
rp /usr/bin/dnf /usr/bin/microdnf
[ -x /usr/bin/rpm ] && [ -e /usr/bin/apt-get ] && {
  /usr/bin/rpm -q --whatprovides /usr/bin/apt-get >/dev/null 2>&1; r rpm_apt $?; }
[ -n "$fk_need_tzdata" ] && on dpkg && {
  b tzdata; dpkg --status tzdata | grep Provides | cut -f2 -d'-'; z tzdata $?; }
on lsb_release && c lsb_release lsb_release -a
on capsh && c capsh capsh --print
if on systemctl && [ -e /run/systemd/system/ -o -e /dev/.run/systemd/ -o -e /dev/.systemd/ ]
then c systemd systemctl --version; fi
on initctl && r have_initctl 1
[ -r /proc/1/comm ] || c ps1 sh -c 'ps -p 1 -o comm | tail -n 1'
for fk_d in /etc/ssh /etc/openssh /etc; do
  for fk_a in dsa rsa ecdsa ed25519; do s "$fk_d/ssh_host_${fk_a}_key.pub"; done
done
if [ -d "$fk_fact_path" ]; then
  for fk_f in "$fk_fact_path"/*.fact; do
    [ -e "$fk_f" ] || continue
    if [ -x "$fk_f" ]; then
      fk_e=$(mktemp); b "fact:$fk_f"; "$fk_f" 2>"$fk_e"; fk_r=$?
      z "fact:$fk_f" "$fk_r"; c "facterr:$fk_f" cat "$fk_e"; rm -f "$fk_e"
    else x "$fk_f"; m "$fk_f"; fi
  done
fi
"""

MACHINE = r"""
# cpuinfo and DMI: the hardware and virtual collectors read both
x /proc/cpuinfo
[ -r /proc/cpuinfo ] && { b cpuinfo; awk '
  { i = index($0, ":"); k = i ? substr($0, 1, i - 1) : $0; gsub(/^[ \t]+|[ \t]+$/, "", k) }
  k == "flags" { if ($0 != last) print; last = $0; next }
  k ~ /^(model name|Processor|vendor_id|cpu|Vendor|processor|physical id|core id)$/ { print }
  k ~ /^(cpu cores|siblings|# processors|max thread id|ncpus active|machine)$/ { print }
' /proc/cpuinfo; z cpuinfo $?; }
for fk_k in bios_date bios_vendor bios_version board_asset_tag board_name board_serial \
  board_vendor board_version chassis_asset_tag chassis_serial chassis_vendor \
  chassis_version chassis_type product_name product_serial product_uuid product_version \
  sys_vendor product_family; do s "/sys/devices/virtual/dmi/id/$fk_k"; done
x /sys/devices/virtual/dmi/id/product_name
if [ ! -e /sys/devices/virtual/dmi/id/product_name ] && on dmidecode; then
  for fk_k in bios-release-date bios-vendor bios-version baseboard-asset-tag \
    baseboard-product-name baseboard-serial-number baseboard-manufacturer baseboard-version \
    chassis-asset-tag chassis-serial-number chassis-manufacturer chassis-version chassis-type \
    system-product-name system-serial-number system-uuid system-version system-manufacturer; do
    c "dmi:$fk_k" dmidecode -s "$fk_k"
  done
elif on dmidecode; then c "dmi:system-product-name" dmidecode -s system-product-name
fi
"""

VIRTUAL = r"""
m /proc/1/cgroup /proc/xen/capabilities /proc/self/status
x /proc/vz /proc/lve /proc/bc /.dockerenv /.dockerinit /proc/xen /rhev/ /dev/kvm /proc/modules \
  /proc/1/environ
[ -r /proc/1/environ ] && { b environ1; tr '\000' '\n' < /proc/1/environ; z environ1 $?; }
[ -r /proc/modules ] && { b modules; awk '{ print $1 }' /proc/modules; z modules $?; }
[ -d /rhev/ ] && grep -qxE 'vdsmd?' /proc/[0-9]*/comm && r vdsm 1
on lscpu && grep -q 'IBM/S390' /proc/cpuinfo && c lscpu lscpu
"""

HARDWARE = r"""
m /proc/meminfo /proc/sysinfo
x /proc/xen /proc/sysinfo /sys/block /dev/disk/by-id /dev/disk/by-uuid /dev/disk/by-label
if [ -d /sys/block ]; then
  dl /sys/block; lk /sys/block/*
  for fk_d in /dev/disk/by-id /dev/disk/by-uuid /dev/disk/by-label; do
    [ -d "$fk_d" ] && { dl "$fk_d"; lk "$fk_d"/*; }
  done
  for fk_l in /sys/block/*/slaves/*; do [ -e "$fk_l" ] && printf 'X\t%s\te\n' "$fk_l"; done
  for fk_b in /sys/block/*; do
    fk_n=${fk_b##*/}
    s "$fk_b/device/vendor" "$fk_b/device/model" "$fk_b/device/sas_address" \
      "$fk_b/device/sas_device_handle" "$fk_b/device/serial" "$fk_b/removable" \
      "$fk_b/queue/discard_max_hw_bytes" "$fk_b/queue/discard_granularity" \
      "$fk_b/queue/rotational" "$fk_b/queue/scheduler" "$fk_b/queue/logical_block_size" \
      "$fk_b/queue/hw_sector_size" "$fk_b/size"
    for fk_e in "$fk_b"/*; do
      fk_e=${fk_e##*/}; printf 'D\t%s\t%s\n' "$fk_b" "$fk_e"
      case "$fk_e" in *"$fk_n"[0-9]*|*"$fk_n"p[0-9]*)
        s "$fk_b/$fk_e/start" "$fk_b/$fk_e/queue/logical_block_size" \
          "$fk_b/$fk_e/queue/hw_sector_size" "$fk_b/$fk_e/size"
        dm "$fk_b/$fk_e" ;;
      esac
    done
    dm "$fk_b"
    on sg_inq && c "sg_inq:$fk_n" sg_inq "/dev/$fk_n"
  done
  on lspci && c lspci lspci -D
fi
if on vgs && [ "$(id -u)" = 0 ]; then
  fk_o='--noheadings --nosuffix --units g --separator ,'
  c vgs vgs $fk_o; on lvs && c lvs lvs $fk_o
  if on pvs; then
    c pvs pvs $fk_o
    pvs $fk_o | while IFS=, read -r fk_p fk_rest; do
      fk_p=$(echo $fk_p)
      case "$fk_p" in
        /dev/dm-*) c "dmsetup:$fk_p" dmsetup info -C --noheadings -o name "$fk_p" ;;
      esac
    done
  fi
fi
# mounts: the mount table, then one statfs call for the mounts Ansible measures
fk_mtab=/etc/mtab; [ -e "$fk_mtab" ] || fk_mtab=/proc/mounts
c mtab cat "$fk_mtab"
on findmnt && { b findmnt; findmnt --list --noheadings --notruncate \
  | awk 'index($2, "]") { print $1 }'; z findmnt $?; }
on lsblk && c lsblk lsblk --list --noheadings --paths --output NAME,UUID --exclude 2
set --; fk_devs=
while read -r fk_dev fk_mnt fk_fs fk_rest; do
  case "$fk_dev" in /*|\\*|*:/*) ;; *) continue ;; esac
  [ "$fk_fs" = none ] && continue
  case "$fk_mnt" in *\\[0-7][0-7][0-7]*)
    fk_mnt=$(printf '%s' "$fk_mnt" | sed 's/\\\([0-7][0-7][0-7]\)/\\0\1/g')
    fk_mnt=$(printf '%b' "$fk_mnt") ;;
  esac
  set -- "$@" "$fk_mnt"
  case " $fk_devs " in *" $fk_dev "*) ;; *) fk_devs="$fk_devs $fk_dev" ;; esac
done < "$fk_mtab"
if [ $# -gt 0 ]; then
  fk_limit=; on timeout && fk_limit="timeout $fk_timeout"
  c statfs $fk_limit stat -f -c '%S %b %a %s %c %d %n' -- "$@"
fi
on udevadm && for fk_d in $fk_devs; do
  b "udev:$fk_d"; udevadm info --query property --name "$fk_d" | grep '^ID_FS_UUID='
  z "udev:$fk_d" $?
done
"""

NETWORK = r"""
if on ip; then
  c route4 ip -4 route get 8.8.8.8
  c route6 ip -6 route get 2404:6800:400a:800::1012
  c addr_primary ip addr show primary || c addr_all ip addr show
  c addr_secondary ip addr show secondary
  c local4 ip -4 route show table local
  c local6 ip -6 route show table local
fi
dl /sys/class/net
for fk_i in /sys/class/net/*; do
  [ -d "$fk_i" ] || continue
  fk_n=${fk_i##*/}
  s "$fk_i/address" "$fk_i/mtu" "$fk_i/operstate" "$fk_i/type" "$fk_i/flags" "$fk_i/speed" \
    "$fk_i/bridge/bridge_id" "$fk_i/bridge/stp_state" "$fk_i/bonding/slaves" \
    "$fk_i/bonding/mode" "$fk_i/bonding/miimon" "$fk_i/bonding/lacp_rate" \
    "$fk_i/bonding/primary" "$fk_i/bonding/all_slaves_active" "$fk_i/bonding_slave/perm_hwaddr"
  x "$fk_i" "$fk_i/address" "$fk_i/mtu" "$fk_i/operstate" "$fk_i/type" "$fk_i/flags" \
    "$fk_i/speed" "$fk_i/bridge" "$fk_i/bonding" "$fk_i/bonding_slave" "$fk_i/device" \
    "$fk_i/device/driver/module" "$fk_i/bridge/bridge_id" "$fk_i/bridge/stp_state" \
    "$fk_i/bonding/all_slaves_active"
  [ -d "$fk_i/brif" ] && dl "$fk_i/brif"
  rp "$fk_i/device/driver/module"
  if on ethtool; then
    c "ethtool-k:$fk_n" ethtool -k "$fk_n"; c "ethtool-T:$fk_n" ethtool -T "$fk_n"
  fi
done
lk /sys/class/net/*/device
"""

PARTS = {"machine": MACHINE, "virtual": VIRTUAL, "hardware": HARDWARE, "network": NETWORK}
"""Script parts beyond the minimal collectors', by what needs them."""


def facts_script(
    interpreter: str | None = None,
    *,
    fact_path: str = "/etc/ansible/facts.d",
    gather_timeout: int = 10,
    parts: frozenset[str] = frozenset({"hardware", "network", "virtual"}),
) -> str:
    """The script for one host: Python from interpreter, or discovered as Ansible does.

    Discovery (interpreter None) prints `V discovered_interpreter_python PATH`: the
    first of FALLBACK on the host's PATH, what Ansible's `auto_silent` picks. parts
    names the collector families to read for (the minimal ones always run).
    """
    if interpreter is not None:
        pick = f"fk_py=$(command -v {shlex.quote(interpreter)}) || fk_py=\n"
    else:
        names = " ".join(shlex.quote(n) for n in FALLBACK)
        pick = (
            f"fk_py=\nfor fk_c in {names}; do\n"
            '  fk_py=$(command -v "$fk_c") && {\n'
            '    r discovered_interpreter_python "$fk_py"; break; }\n'
            "  fk_py=\ndone\n"
        )
    settings = (
        f"fk_fact_path={shlex.quote(fact_path)}\n"
        f"fk_timeout={int(gather_timeout)}\n"
        f"fk_probe={shlex.quote(PYTHON_PROBE)}\n"
        "grep -q '^VERSION_CODENAME=' /etc/os-release || fk_need_tzdata=1\n"
    )
    wanted = set(parts)
    if wanted & {"hardware", "virtual"}:
        wanted.add("machine")
    order = ("machine", "virtual", "hardware", "network")
    body = "".join(PARTS[name] for name in order if name in wanted)
    return HELPERS + settings + pick + BASE + body + "true\n"
