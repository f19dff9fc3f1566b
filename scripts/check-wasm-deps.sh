#!/usr/bin/env bash
# Fails if the browser bundle's dependency tree contains a crate that belongs on the server only
# (cluster clients, AWS signing, the HTTP server, the server crate itself). Credentials live in
# the server crate; this keeps them, and the code that handles them, out of the wasm.
set -euo pipefail
cd "$(dirname "$0")/.."
. ./env.sh
forbidden='^(server|kube|kube-client|kube-core|kube-runtime|k8s-openapi|aws-sigv4|aws-[a-z-]+|leptos_axum|axum|rustls|rustls-native-certs|hyper-rustls|tokio-rustls)$'
tree=$(cargo tree -p frontend --target wasm32-unknown-unknown -e normal --prefix none --format '{p}' | awk '{print $1}' | sort -u)
bad=$(printf '%s\n' "$tree" | grep -E "$forbidden" || true)
if [ -n "$bad" ]; then
  echo "check-wasm-deps: server-only crates in the wasm dependency tree:" >&2
  printf '  %s\n' $bad >&2
  echo "(find the path with: cargo tree -p frontend --target wasm32-unknown-unknown -i <crate>)" >&2
  exit 1
fi
echo "check-wasm-deps: ok ($(printf '%s\n' "$tree" | wc -l) crates, none server-only)"
