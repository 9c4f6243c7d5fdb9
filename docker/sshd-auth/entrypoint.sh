#!/bin/bash
# Login setup from the environment, then sshd and an HTTP target on 127.0.0.1:8080.
#   AUTHORIZED_KEYS       alice's authorized_keys (absent: no plain key logs in)
#   TRUSTED_USER_CA_KEYS  CA public key(s) whose certificates log in (TrustedUserCAKeys)
#   AUTH_METHODS          sshd AuthenticationMethods, e.g. publickey,keyboard-interactive:pam
#   PAM_STACK             totp (a code only) | password-totp (password, then a code) | unset (Debian's)
#   TOTP_SECRET           base32 secret of alice's ~/.google_authenticator (TOTP, 30 s, window 3)
# PID 1 is this shell, not sshd, so tests can kill and restart sshd without losing the container.
set -e
[ -f /etc/ssh/ssh_host_ed25519_key ] || ssh-keygen -q -t ed25519 -N '' -f /etc/ssh/ssh_host_ed25519_key
chmod 600 /etc/ssh/ssh_host_*_key
conf=/etc/ssh/sshd_config.d/auth-mode.conf
: > "$conf"
if [ -n "${AUTHORIZED_KEYS:-}" ]; then
  printf '%s\n' "$AUTHORIZED_KEYS" > /home/alice/.ssh/authorized_keys
  chown alice:alice /home/alice/.ssh/authorized_keys && chmod 600 /home/alice/.ssh/authorized_keys
fi
if [ -n "${TRUSTED_USER_CA_KEYS:-}" ]; then
  printf '%s\n' "$TRUSTED_USER_CA_KEYS" > /etc/ssh/trusted_user_ca_keys
  echo 'TrustedUserCAKeys /etc/ssh/trusted_user_ca_keys' >> "$conf"
fi
[ -n "${AUTH_METHODS:-}" ] && echo "AuthenticationMethods $AUTH_METHODS" >> "$conf"
totp='auth required pam_google_authenticator.so'
case "${PAM_STACK:-}" in
  totp) sed "s/^@include common-auth\$/$totp/" /etc/pam.d/sshd.debian > /etc/pam.d/sshd ;;
  password-totp) sed "s/^@include common-auth\$/@include common-auth\n$totp/" /etc/pam.d/sshd.debian > /etc/pam.d/sshd ;;
  *) cp /etc/pam.d/sshd.debian /etc/pam.d/sshd ;;
esac
if [ -n "${TOTP_SECRET:-}" ]; then
  printf '%s\n" TOTP_AUTH\n" WINDOW_SIZE 3\n' "$TOTP_SECRET" > /home/alice/.google_authenticator
  chown alice:alice /home/alice/.google_authenticator && chmod 400 /home/alice/.google_authenticator
fi
su alice -s /bin/sh -c 'cd /srv/www && nohup python3 -m http.server 8080 --bind 127.0.0.1 >/tmp/http.log 2>&1 &'
/usr/sbin/sshd -E /var/log/sshd.log
# sshd forks into the background before it binds port 22: say ready only once it listens.
listening() { awk '$4 == "0A" && $2 ~ /:0016$/ { up = 1 } END { exit !up }' /proc/net/tcp /proc/net/tcp6; }
for _ in $(seq 1 200); do listening && break; sleep 0.05; done
listening || { echo 'sshd is not listening on port 22 after 10 s:' >&2; cat /var/log/sshd.log >&2; exit 1; }
for _ in $(seq 1 100); do python3 -c 'import socket; socket.create_connection(("127.0.0.1", 8080), 1)' 2>/dev/null && break; sleep 0.05; done
echo 'fwd-sshd ready'
trap 'pkill -TERM sshd; exit 0' TERM INT
sleep infinity & wait $!
