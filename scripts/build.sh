#!/usr/bin/env bash
# Builds the site (wasm bundle, JS glue, CSS, public assets), the `greenroom` binary and the
# `demo-cluster` simulator, without needing cargo-leptos. Same outputs and layout as
# `cargo leptos build`:
#   target/site/pkg/greenroom.{js,wasm,css}, target/site/favicon.ico, target/<profile>/greenroom,
#   target/<profile>/demo-cluster
#
#   scripts/build.sh [--release] [--site-only|--server-only]
set -euo pipefail
cd "$(dirname "$0")/.."
. ./env.sh

release=0 site=1 server=1
for arg in "$@"; do
  case "$arg" in
    --release) release=1 ;;
    --site-only) server=0 ;;
    --server-only) site=0 ;;
    *) echo "build.sh: unknown argument '$arg'" >&2; exit 2 ;;
  esac
done

if [ "$site" = 1 ]; then
  if [ "$release" = 1 ]; then front_profile=wasm-release; front_dir=wasm-release; else front_profile=dev; front_dir=debug; fi
  # shellcheck disable=SC2086 # GREENROOM_WASM_CARGO_ARGS is a list of flags (or empty)
  cargo build -p frontend --lib --target wasm32-unknown-unknown --target-dir target/front \
    --profile "$front_profile" $GREENROOM_WASM_CARGO_ARGS
  pkg=target/site/pkg
  stage=target/site/.stage
  rm -rf "$stage" && mkdir -p "$stage" "$pkg"
  wasm-bindgen --target web --no-typescript --out-dir "$stage" --out-name greenroom \
    "target/front/wasm32-unknown-unknown/$front_dir/frontend.wasm"
  if [ "$release" = 1 ]; then
    wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int \
      "$stage/greenroom_bg.wasm" -o "$stage/greenroom_bg.wasm"
  fi
  # Leptos' hydration script loads /pkg/<name>.wasm.
  mv "$stage/greenroom_bg.wasm" "$pkg/greenroom.wasm"
  mv "$stage/greenroom.js" "$pkg/greenroom.js"
  cp style/main.css "$pkg/greenroom.css"
  cp -r public/. target/site/
  rm -rf "$stage"
  # Served as-is by the static file handler to clients that accept brotli (every current
  # browser) or gzip. Brotli at quality 11 through node's zlib (node is already needed for
  # Playwright and wasm-opt; no extra package).
  for f in "$pkg"/greenroom.{wasm,js,css}; do gzip -9 -k -f "$f"; done
  node -e '
    const fs = require("fs"), z = require("zlib");
    for (const f of process.argv.slice(1)) {
      const data = fs.readFileSync(f);
      fs.writeFileSync(f + ".br", z.brotliCompressSync(data, { params: {
        [z.constants.BROTLI_PARAM_QUALITY]: 11,
        [z.constants.BROTLI_PARAM_SIZE_HINT]: data.length } }));
    }' "$pkg"/greenroom.{wasm,js,css}
  raw=$(stat -c %s "$pkg/greenroom.wasm")
  gz=$(stat -c %s "$pkg/greenroom.wasm.gz")
  br=$(stat -c %s "$pkg/greenroom.wasm.br")
  printf 'wasm bundle (%s): %s bytes raw, %s bytes gzip -9, %s bytes brotli 11\n' \
    "$([ "$release" = 1 ] && echo release || echo debug)" "$raw" "$gz" "$br"
fi

if [ "$server" = 1 ]; then
  if [ "$release" = 1 ]; then
    cargo build -p server --bin greenroom -p demo-cluster --bin demo-cluster --release
  else
    cargo build -p server --bin greenroom -p demo-cluster --bin demo-cluster
  fi
fi
