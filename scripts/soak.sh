#!/usr/bin/env bash
# Soak/load test of the live Kubernetes tab: live subscribers (default 500) and REST clients
# (default 16) against the release portal for a bounded time (default 180 s, at most 1800) while
# the demo clusters churn. Loopback only; the portal and the demo clusters run as separate
# processes. Exits non-zero on any error or if the portal's memory grew by more than 20% after
# the warm-up.
#
#   scripts/soak.sh [--seconds N] [--subscribers N] [--rest-clients N]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh --release
. ./env.sh
cargo build --release -p server --example live_soak
exec target/release/examples/live_soak "$@"
