#!/bin/sh
# Runs nginx with the certificate mounted at /etc/nginx/tls/{cert,key}.pem, or, when there is
# none, a self-signed one for $TLS_NAME (default localhost) made now, so the image runs as is.
set -eu
dir=/etc/nginx/tls
if [ ! -s "$dir/cert.pem" ] || [ ! -s "$dir/key.pem" ]; then
  mkdir -p "$dir"
  name=${TLS_NAME:-localhost}
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 \
    -subj "/CN=$name" -addext "subjectAltName=DNS:$name,IP:127.0.0.1" \
    -keyout "$dir/key.pem" -out "$dir/cert.pem" 2>/dev/null
  echo "fwd-nginx: made a self-signed certificate for $name" >&2
fi
nginx -t >/dev/null 2>&1 || nginx -t
exec nginx
