#!/bin/sh
# Run "$@" in a private mount namespace (unshare -m) over copies: /etc copied to $1/etc,
# and empty /home, /var/mail, /var/log, /var/spool, so that useradd, usermod, groupadd,
# chage and ssh-keygen change the copies only. The copied login.defs gets uid/gid ranges
# no process on this machine runs as (userdel refuses a user some process runs as).
set -eu
r=$1
shift
mkdir -p "$r/etc" "$r/home" "$r/mail" "$r/log" "$r/spool"
cp -a /etc/. "$r/etc/"
sed -i -e '/^\(UID_MIN\|UID_MAX\|GID_MIN\|GID_MAX\|SYS_UID_MIN\|SYS_UID_MAX\|SYS_GID_MIN\|SYS_GID_MAX\)[[:space:]]/d' "$r/etc/login.defs"
printf 'UID_MIN 42000\nUID_MAX 42999\nGID_MIN 42000\nGID_MAX 42999\nSYS_UID_MIN 420\nSYS_UID_MAX 499\nSYS_GID_MIN 420\nSYS_GID_MAX 499\n' >> "$r/etc/login.defs"
mount --bind "$r/etc" /etc
mount --bind "$r/home" /home
if [ -d /var/mail ]; then mount --bind "$r/mail" /var/mail; fi
mount --bind "$r/log" /var/log
mount --bind "$r/spool" /var/spool
exec "$@"
