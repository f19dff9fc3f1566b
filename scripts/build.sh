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
  rm -rf "$stage" && mkdir -p "$stage/split" "$pkg"
  # Cut the bundle at the lazy pages (app/src/lib.rs `lazy_pages!`): the main module, one module
  # per page and the chunks pages share, plus the loader __wasm_split.js. The main module then
  # goes through wasm-bindgen, keeping the exports the loader links the page modules against
  # (the function table, among LLD's).
  wasm-split-cli "target/front/wasm32-unknown-unknown/$front_dir/frontend.wasm" "$stage/split" \
    --target web --out-name greenroom
  wasm-bindgen --target web --no-typescript --keep-lld-exports --out-dir "$stage" --out-name greenroom \
    "$stage/split/greenroom.wasm"
  rm "$stage/split/greenroom.wasm"
  # Leptos names the loader __wasm_split.<hash>.js, with 22 underscores for "no hash", and finds
  # each page's chunks (to preload them with the page that needs them) in
  # __wasm_split_manifest.json: page -> the chunk files it loads, from the loader's own table.
  loader="__wasm_split.______________________.js"
  mv "$stage/split/__wasm_split.js" "$stage/$loader"
  # Only the ES module imports: the import object keeps the module name the wasm asks for.
  sed -i "s#^\(import .* from \)\"./__wasm_split.js\"#\1\"./$loader\"#" "$stage/greenroom.js"
  node -e '
    const fs = require("fs"), path = require("path");
    const [dir, loader] = process.argv.slice(1);
    const js = fs.readFileSync(path.join(dir, loader), "utf8");
    const manifest = {};
    for (const f of fs.readdirSync(path.join(dir, "split"))) {
      const m = /^split_(.+)\.wasm$/.exec(f);
      if (m) manifest[m[1]] = [];
    }
    for (const [, users, chunk] of js.matchAll(/\/\* ([^*]+) \*\/\s*const __(chunk_\d+) = makeLoad/g))
      for (const u of users.split(",").map((s) => s.trim()))
        if (manifest[u]) manifest[u].push(chunk);
    // The module of the page first: over HTTP/1.1 the browser fetches preloads about six at a
    // time, in document order.
    for (const key of Object.keys(manifest)) manifest[key].unshift("split_" + key);
    fs.writeFileSync(path.join(dir, "__wasm_split_manifest.json"), JSON.stringify(manifest, null, 1));
  ' "$stage" "$loader"
  if [ "$release" = 1 ]; then
    opt=(-Oz --enable-bulk-memory --enable-nontrapping-float-to-int --strip-debug)
    wasm-opt "${opt[@]}" "$stage/greenroom_bg.wasm" -o "$stage/greenroom_bg.wasm"
    # Two at a time (two cores). The split modules carry a name subsection binaryen does not
    # know (and drops): one warning per module, not worth printing.
    find "$stage/split" -name '*.wasm' -print0 |
      xargs -0 -P 2 -I{} wasm-opt "${opt[@]}" {} -o {} 2> >(grep -v 'unknown name subsection' >&2)
  fi
  # Leptos' hydration script loads /pkg/<name>.wasm.
  rm -f "$pkg"/chunk_*.wasm* "$pkg"/split_*.wasm* "$pkg"/__wasm_split*
  mv "$stage/greenroom_bg.wasm" "$pkg/greenroom.wasm"
  mv "$stage/greenroom.js" "$pkg/greenroom.js"
  mv "$stage/$loader" "$stage/__wasm_split_manifest.json" "$stage"/split/*.wasm "$pkg/"
  cp style/main.css "$pkg/greenroom.css"
  cp -r public/. target/site/
  rm -rf "$stage"
  # Served as-is by the static file handler to clients that accept brotli (every current
  # browser) or gzip. Brotli at quality 11 through node's zlib (node is already needed for
  # Playwright and wasm-opt; no extra package).
  compressible=("$pkg"/greenroom.{wasm,js,css} "$pkg/$loader" "$pkg"/chunk_*.wasm "$pkg"/split_*.wasm)
  for f in "${compressible[@]}"; do gzip -9 -k -f "$f"; done
  node -e '
    const fs = require("fs"), z = require("zlib");
    for (const f of process.argv.slice(1)) {
      const data = fs.readFileSync(f);
      fs.writeFileSync(f + ".br", z.brotliCompressSync(data, { params: {
        [z.constants.BROTLI_PARAM_QUALITY]: 11,
        [z.constants.BROTLI_PARAM_SIZE_HINT]: data.length } }));
    }' "${compressible[@]}"
  raw=$(stat -c %s "$pkg/greenroom.wasm")
  gz=$(stat -c %s "$pkg/greenroom.wasm.gz")
  br=$(stat -c %s "$pkg/greenroom.wasm.br")
  printf 'wasm bundle (%s), main module: %s bytes raw, %s bytes gzip -9, %s bytes brotli 11\n' \
    "$([ "$release" = 1 ] && echo release || echo debug)" "$raw" "$gz" "$br"
  node -e '
    const fs = require("fs"), path = require("path");
    const dir = process.argv[1];
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, "__wasm_split_manifest.json"), "utf8"));
    const size = (f) => fs.statSync(path.join(dir, f)).size;
    for (const [page, files] of Object.entries(manifest).sort()) {
      const br = files.reduce((n, f) => n + size(f + ".wasm.br"), 0);
      console.log(`  page ${page.replace(/^__/, "").replace(/(_view)?_\d+$/, "")}: ${files.length} files, ${br} bytes brotli`);
    }' "$pkg"
fi

if [ "$server" = 1 ]; then
  if [ "$release" = 1 ]; then
    cargo build -p server --bin greenroom -p demo-cluster --bin demo-cluster --release
  else
    cargo build -p server --bin greenroom -p demo-cluster --bin demo-cluster
  fi
fi
