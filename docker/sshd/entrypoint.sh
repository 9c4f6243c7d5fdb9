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
su alice -s /bin/sh -c 'nohup /usr/local/bin/fwd-target all >/tmp/fwd-target.log 2>&1 &'
/usr/sbin/sshd -E /var/log/sshd.log
# sshd has bound port 22 when it returns; the targets bind asynchronously, so wait for the last.
for _ in $(seq 1 100); do grep -q 'echo.sock' /tmp/fwd-target.log 2>/dev/null && break; sleep 0.05; done
echo 'fwd-sshd ready'
trap 'pkill -TERM sshd; exit 0' TERM INT
sleep infinity & wait $!
