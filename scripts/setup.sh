#!/usr/bin/env bash
# Installs what building (and, with --test, testing) Greenroom needs. Idempotent: a second run
# only checks, and takes a few seconds.
#
#   scripts/setup.sh          # build + run needs
#   scripts/setup.sh --test   # also Chromium and the Playwright packages
#
# What it may install (each only if missing):
# - Debian packages rustc-web cargo-web rust-web-src rust-web-llvm lld-22, when rustup has no
#   wasm32-unknown-unknown std (see env.sh); chromium, postgresql (the database tests start a
#   private server) and kubectl with --test.
# - wasm-bindgen-cli, at exactly the version of the wasm-bindgen crate in Cargo.lock, and
#   wasm-split-cli (cargo install).
# - end2end/node_modules (npm ci): Playwright and npm's binaryen (wasm-opt 132).
# - with --test, end2end/compat/node_modules (npm ci): Backstage's catalog backend for the
#   differential check (scripts/dev.sh compat).
set -euo pipefail
cd "$(dirname "$0")/.."
want_test=0
[ "${1:-}" = "--test" ] && want_test=1

say() { printf 'setup: %s\n' "$*"; }

. ./env.sh

# --- Debian packages -------------------------------------------------------------------------
apt_missing=()
if [ "$GREENROOM_TOOLCHAIN" = debian ]; then
  for p in rustc-web cargo-web rust-web-src rust-web-llvm lld-22; do
    dpkg -s "$p" >/dev/null 2>&1 || apt_missing+=("$p")
  done
fi
if [ "$want_test" = 1 ] && ! [ -x /usr/bin/chromium ]; then
  apt_missing+=(chromium)
fi
# python3 runs the module-loop check (scripts/check-module-loops.py).
if [ "$want_test" = 1 ] && ! command -v python3 >/dev/null 2>&1; then
  apt_missing+=(python3)
fi
# kubectl is the independent client the demo-cluster tests compare against.
if [ "$want_test" = 1 ] && ! command -v kubectl >/dev/null 2>&1; then
  apt_missing+=(kubectl)
fi
# PostgreSQL: the database tests start a private server (initdb in a temp dir, loopback port).
if [ "$want_test" = 1 ] && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  apt_missing+=(postgresql)
fi
if [ "${#apt_missing[@]}" -gt 0 ]; then
  say "installing Debian packages: ${apt_missing[*]}"
  sudo_cmd=()
  [ "$(id -u)" = 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -q
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -q "${apt_missing[@]}"
else
  say "Debian packages: nothing missing (toolchain: $GREENROOM_TOOLCHAIN)"
fi

# --- wasm-bindgen-cli, same version as the crate -----------------------------------------------
wb_version=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
have=$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)
if [ "$have" != "$wb_version" ]; then
  say "installing wasm-bindgen-cli $wb_version (found: ${have:-none}); takes ~3 min once"
  # Not --locked: its lock pins a yanked webpki-roots (see README, Toolchain). --force: cargo
  # skips a crate its records say is installed even when the binary is gone or another version.
  cargo install --force wasm-bindgen-cli --version "$wb_version"
  have=$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)
  if [ "$have" != "$wb_version" ]; then
    echo "setup: wasm-bindgen $wb_version is not on PATH after installing it (found: ${have:-none}); is ~/.cargo/bin on PATH?" >&2
    exit 1
  fi
else
  say "wasm-bindgen-cli $wb_version: present"
fi

# --- wasm-split-cli: cuts the bundle into the main module and one chunk per lazily loaded page --
# The splitter of Leptos' lazy routes (the library cargo-leptos uses for `--split`), as a command.
ws_version=0.2.4
if ! command -v wasm-split-cli >/dev/null \
  || ! cargo install --list | grep -qx "wasm_split_cli_support v$ws_version:"; then
  say "installing wasm-split-cli $ws_version; takes ~2 min once"
  cargo install --force --locked wasm_split_cli_support --version "$ws_version" --features build-binary
  command -v wasm-split-cli >/dev/null || { echo "setup: wasm-split-cli is not on PATH after installing it; is ~/.cargo/bin on PATH?" >&2; exit 1; }
else
  say "wasm-split-cli $ws_version: present"
fi

# --- npm packages (Playwright, wasm-opt) --------------------------------------------------------
stamp=end2end/node_modules/.greenroom-installed-lock
if ! cmp -s end2end/package-lock.json "$stamp" 2>/dev/null; then
  say "installing end2end npm packages"
  (cd end2end && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
else
  say "end2end npm packages: present"
fi
# Remember which lock file node_modules was installed from, to skip `npm ci` next time.
cp end2end/package-lock.json "$stamp"

# --- the differential check's npm packages (--test): the real Backstage catalog backend -----
# better-sqlite3 has no prebuilt binary here (no downloads outside the registries), so npm builds
# it from source against the installed Node headers (/usr/include/node): ~2 min once.
if [ "$want_test" = 1 ]; then
  stamp=end2end/compat/node_modules/.greenroom-installed-lock
  if ! cmp -s end2end/compat/package-lock.json "$stamp" 2>/dev/null; then
    say "installing end2end/compat npm packages (Backstage's catalog backend; ~3 min once)"
    (cd end2end/compat && npm_config_nodedir=${npm_config_nodedir:-/usr} npm ci --no-audit --no-fund --loglevel=error)
  else
    say "end2end/compat npm packages: present"
  fi
  cp end2end/compat/package-lock.json "$stamp"
fi

wasm_opt=$(wasm-opt --version 2>/dev/null || true)
case "$wasm_opt" in
  *"version 132"*) ;;
  *) echo "setup: expected npm's wasm-opt 132 first on PATH, got '${wasm_opt:-none}'" >&2; exit 1 ;;
esac
say "ready"
