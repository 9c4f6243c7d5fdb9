#!/bin/bash
# PID 1 is this shell, not sshd, so tests can kill and restart sshd without losing the container.
set -e
[ -f /etc/ssh/ssh_host_ed25519_key ] || ssh-keygen -q -t ed25519 -N '' -f /etc/ssh/ssh_host_ed25519_key
chmod 600 /etc/ssh/ssh_host_*_key
if [ -n "${AUTHORIZED_KEYS:-}" ]; then
  printf '%s\n' "$AUTHORIZED_KEYS" > /home/alice/.ssh/authorized_keys
fi
[ -f /home/alice/.ssh/authorized_keys ] && chown alice:alice /home/alice/.ssh/authorized_keys && chmod 600 /home/alice/.ssh/authorized_keys
# Targets listen on loopback only: reachable through SSH forwarding, never from the host.
# They start before sshd (and are waited for): once sshd answers, a restarted container is whole.
rm -f /tmp/fwd-target.log
su alice -s /bin/sh -c 'nohup /usr/local/bin/fwd-target all >/tmp/fwd-target.log 2>&1 &'
for _ in $(seq 1 200); do grep -q 'echo.sock' /tmp/fwd-target.log 2>/dev/null && break; sleep 0.05; done
/usr/sbin/sshd -E /var/log/sshd.log
# sshd forks into the background before it binds port 22: say ready only once it listens.
listening() { awk '$4 == "0A" && $2 ~ /:0016$/ { up = 1 } END { exit !up }' /proc/net/tcp /proc/net/tcp6; }
for _ in $(seq 1 200); do listening && break; sleep 0.05; done
listening || { echo 'sshd is not listening on port 22 after 10 s:' >&2; cat /var/log/sshd.log >&2; exit 1; }
echo 'fwd-sshd ready'
trap 'pkill -TERM sshd; exit 0' TERM INT
sleep infinity & wait $!
