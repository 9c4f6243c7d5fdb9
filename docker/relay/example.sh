#!/usr/bin/env bash
# fwd relay in front of an SSH server on one Docker network. The SSH server publishes NO port;
# only the relay's port is published, on 127.0.0.1. Builds what it needs, connects once through
# the relay, prints the relay's log, and removes everything again.
#   bash docker/relay/example.sh
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
node_bin=$(readlink -f "$(command -v node)")

bash "$repo/docker/setup.sh"
(cd "$repo" && npx tsc -b)

name=fwd-relay-example-$$
work=$(mktemp -d)
cleanup() {
  docker rm -f "$name-relay" "$name-login" >/dev/null 2>&1 || true
  docker network rm "$name" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

ssh-keygen -q -t ed25519 -N '' -C fwd-example -f "$work/id_ed25519"
openssl rand -base64 32 >"$work/relay-tokens"
chmod 644 "$work/relay-tokens" # read by the image's unprivileged user through a read-only mount

docker network create "$name" >/dev/null
# The SSH server: reachable as login:22 on the network, and from nowhere else (no -p).
docker run -d --name "$name-login" --network "$name" --network-alias login \
  -e AUTHORIZED_KEYS="$(cat "$work/id_ed25519.pub")" fwd/sshd >/dev/null
# The relay: Node and the built tree come from this machine, read-only.
docker run -d --name "$name-relay" --network "$name" -p 127.0.0.1::8080 \
  -v "$node_bin:/usr/local/bin/node:ro" -v "$repo:/opt/fwd:ro" \
  -v "$work/relay-tokens:/etc/fwd/relay-tokens:ro" \
  fwd/relay --listen 0.0.0.0:8080 --allow login:22 --token-file /etc/fwd/relay-tokens >/dev/null

port=$(docker port "$name-relay" 8080/tcp | head -n 1 | sed 's/.*://')
for _ in $(seq 1 100); do curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
for _ in $(seq 1 100); do docker logs "$name-login" 2>&1 | grep -q 'fwd-sshd ready' && break; sleep 0.1; done
echo "relay: ws://127.0.0.1:$port/ssh  healthz: $(curl -fsS "http://127.0.0.1:$port/healthz")"

# known_hosts names the SSH server (login), not the relay: host keys are checked end to end.
echo "login $(docker exec "$name-login" cut -d' ' -f1,2 /etc/ssh/ssh_host_ed25519_key.pub)" >"$work/known_hosts"
FWD_RELAY_TOKEN=$(cat "$work/relay-tokens") \
  node "$here/example-client.mjs" "ws://127.0.0.1:$port/ssh" "$work/id_ed25519" "$work/known_hosts"

echo "--- relay log (JSON, one event per line; no tokens)"
docker logs "$name-relay"
