# Source this before building by hand:  . ./env.sh
#
# Picks the toolchain that can build the wasm bundle on this machine:
# - "rustup": rustup's toolchain already has the wasm32-unknown-unknown std (a normal developer
#   machine after `rustup target add wasm32-unknown-unknown`): nothing special is needed.
# - "debian": it does not (these CI machines): use Debian's rustc-web/cargo-web 1.96 from /usr/bin
#   for everything and build std for wasm from rust-web-src (-Zbuild-std, allowed on a stable
#   compiler by RUSTC_BOOTSTRAP=1). See ../shared/TOOLCHAIN.md (or README "Toolchain").
# Force one with GREENROOM_TOOLCHAIN=rustup|debian.
_gr_ws="$(cd "$(dirname "${BASH_SOURCE[0]:-$0}")" && pwd)"
if [ -z "${GREENROOM_TOOLCHAIN:-}" ]; then
  _gr_libdir="$(rustc --print target-libdir --target wasm32-unknown-unknown 2>/dev/null || true)"
  if [ -n "$_gr_libdir" ] && ls "$_gr_libdir"/libstd-*.rlib >/dev/null 2>&1; then
    GREENROOM_TOOLCHAIN=rustup
  else
    GREENROOM_TOOLCHAIN=debian
  fi
  unset _gr_libdir
fi
export GREENROOM_TOOLCHAIN
case ":$PATH:" in
  *":$_gr_ws/end2end/node_modules/.bin:"*) ;;
  # npm's binaryen (wasm-opt 132) first: Debian's binaryen 108 silently breaks the bundle.
  *) export PATH="$_gr_ws/end2end/node_modules/.bin:$PATH" ;;
esac
if [ "$GREENROOM_TOOLCHAIN" = debian ]; then
  case ":$PATH:" in
    "$_gr_ws/end2end/node_modules/.bin:/usr/bin:"*) ;;
    *) export PATH="$_gr_ws/end2end/node_modules/.bin:/usr/bin:$PATH" ;;
  esac
  export RUSTC_BOOTSTRAP=1
  export GREENROOM_WASM_CARGO_ARGS="-Zbuild-std=std,panic_abort"
else
  export GREENROOM_WASM_CARGO_ARGS=""
fi
# `cargo leptos <build|watch|end-to-end> $GREENROOM_LEPTOS_ARGS` passes the wasm flags to
# cargo-leptos (it has no environment variable for them).
export GREENROOM_LEPTOS_ARGS="${GREENROOM_WASM_CARGO_ARGS:+--lib-cargo-args=$GREENROOM_WASM_CARGO_ARGS}"
# Build flags (the wasm's relocations for wasm-split-cli, Leptos' `erase_components`) are in
# .cargo/config.toml, so cargo run without this file builds the same thing.
# Read at compile time by leptos; keep it identical for every build so nothing rebuilds.
export LEPTOS_OUTPUT_NAME=greenroom
unset _gr_ws
