#!/bin/bash
# One image, two roles. ROLE=login: slurmctld + sshd + the users' homes (shared /home volume).
# ROLE=node: slurmd + sshd with the pam_slurm_adopt rule. PID 1 stays this shell (sshd can be restarted).
set -euo pipefail
role=${ROLE:-login}
name=${NODE_NAME:-$(hostname)}
mkdir -p /run/sshd /run/slurm /var/spool/slurmctld /var/spool/slurmd
# Host keys are made per container at start, never baked into the image: every node has its own.
[ -f /etc/ssh/ssh_host_ed25519_key ] || ssh-keygen -q -t ed25519 -N '' -C "root@$name" -f /etc/ssh/ssh_host_ed25519_key
chmod 600 /etc/ssh/ssh_host_ed25519_key

setup_home() {
  local user=$1 keys=$2 home=/home/$1
  if [ ! -d "$home" ]; then
    mkdir -p "$home"
    cp -rT /etc/skel "$home"
  fi
  mkdir -p "$home/.ssh"
  # An intra-cluster key, as many sites create at first login, so `ssh node1` works from login.
  [ -f "$home/.ssh/id_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -C "$user@cluster" -f "$home/.ssh/id_ed25519"
  { [ -z "$keys" ] || printf '%s\n' "$keys"; cat "$home/.ssh/id_ed25519.pub"; } > "$home/.ssh/authorized_keys"
  chown -R "$user:$user" "$home"
  chmod 700 "$home" "$home/.ssh"
  chmod 600 "$home/.ssh/authorized_keys" "$home/.ssh/id_ed25519"
}

case "$role" in
  login)
    setup_home alice "${AUTHORIZED_KEYS_ALICE:-${AUTHORIZED_KEYS:-}}"
    setup_home bob "${AUTHORIZED_KEYS_BOB:-}"
    # Returns once its sockets accept requests (it forks after binding them).
    python3 -m fakeslurm.slurmctld >>/var/log/slurmctld.log 2>&1 </dev/null
    ;;
  node)
    grep -q pam_slurm_adopt /etc/pam.d/sshd \
      || echo 'account    required     pam_exec.so quiet stdout /usr/local/sbin/pam_slurm_adopt' >>/etc/pam.d/sshd
    NODE_NAME=$name python3 -m fakeslurm.slurmd >>/var/log/slurmd.log 2>&1 </dev/null
    ;;
  *)
    echo "ROLE must be login or node, not '$role'" >&2
    exit 2
    ;;
esac
/usr/sbin/sshd -E /var/log/sshd.log
# sshd forks into the background before it binds port 22: say ready only once it listens.
listening() { awk '$4 == "0A" && $2 ~ /:0016$/ { up = 1 } END { exit !up }' /proc/net/tcp /proc/net/tcp6; }
for _ in $(seq 1 200); do listening && break; sleep 0.05; done
listening || { echo 'sshd is not listening on port 22 after 10 s:' >&2; cat /var/log/sshd.log >&2; exit 1; }
echo "fake-slurm: $role $name ready"
trap 'exit 0' TERM INT
sleep infinity &
wait $!
