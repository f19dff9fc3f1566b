#!/usr/bin/env bash
# The developer entry point. The README's two commands are `scripts/dev.sh run` and
# `scripts/dev.sh test`; both install what they need first (scripts/setup.sh, idempotent).
#
#   scripts/dev.sh run [serve options]   set up, build release, start the demo clusters, serve on
#                                        http://127.0.0.1:7007
#   scripts/dev.sh test                  set up, build release once, run every test, print a summary
#   scripts/dev.sh build [--release]     set up and build (site + binary)
#   scripts/dev.sh e2e                   Playwright against the already-built release binary
#   scripts/dev.sh compat [options]      the differential check against Backstage's catalog
#                                        backend (end2end/compat/run.mjs) on the built binary
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

cmd=${1:-}
[ $# -gt 0 ] && shift

e2e_port=${GREENROOM_E2E_PORT:-7107}

# Starts the demo clusters (catalog/clusters) in the background with the given extra options,
# waits until they serve, and exports what the portal's config reads (DEMO_*_URL, _CA_DATA,
# _TOKEN; see target/<state>/env). Sets demo_pid.
start_demo_cluster() {
  local state=$1
  shift
  rm -f "$state/state.json"
  target/release/demo-cluster --state-dir "$state" "$@" >"$state.log" 2>&1 &
  demo_pid=$!
  local i
  for i in $(seq 1 100); do
    [ -f "$state/state.json" ] && break
    if ! kill -0 "$demo_pid" 2>/dev/null; then
      echo "demo-cluster failed to start; its log ($state.log):" >&2
      cat "$state.log" >&2
      return 1
    fi
    sleep 0.1
  done
  [ -f "$state/state.json" ] || { echo "demo-cluster did not start within 10 s" >&2; return 1; }
  set -a
  # shellcheck disable=SC1091
  . "$state/env"
  set +a
  # The portal signs in to the demo's EKS cluster with the fake AWS account, through its STS.
  export AWS_ACCESS_KEY_ID=$DEMO_AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY=$DEMO_AWS_SECRET_ACCESS_KEY
  export AWS_ENDPOINT_URL_STS=$DEMO_STS_URL AWS_CA_BUNDLE=$DEMO_STS_CA_FILE
  unset AWS_SESSION_TOKEN AWS_PROFILE
}

# Starts the built release binary on the e2e config, runs Playwright, stops the server with
# SIGTERM and checks that it shut down cleanly. Prints "playwright: N passed, M failed".
run_e2e() {
  . ./env.sh
  local log=target/e2e-server.log results=end2end/test-results/results.json
  rm -f "$results"
  mkdir -p target
  # Frozen demo clusters on their own ports: tests change them only through the control API.
  start_demo_cluster target/demo-cluster-e2e --frozen --base-port "${GREENROOM_E2E_DEMO_PORT:-17443}" \
    --control-port "${GREENROOM_E2E_DEMO_CONTROL_PORT:-17440}"
  GREENROOM_E2E_PORT=$e2e_port target/release/greenroom serve --config app-config.yaml --config app-config.demo.yaml \
    --config end2end/app-config.e2e.yaml >"$log" 2>&1 &
  local pid=$!
  # The sign-in tests: a real OpenID provider (end2end/oidc/idp.mjs) and a second portal that
  # signs in through it.
  export GREENROOM_E2E_OIDC_PORT=${GREENROOM_E2E_OIDC_PORT:-7108} GREENROOM_E2E_IDP_PORT=${GREENROOM_E2E_IDP_PORT:-7109}
  export GREENROOM_E2E_SESSION_SECRET=e2e-session-secret-not-for-production-use
  export GREENROOM_E2E_OIDC_CLIENT_SECRET=greenroom-e2e-client-secret
  (cd end2end && GREENROOM_E2E_OIDC_URL="http://127.0.0.1:$GREENROOM_E2E_OIDC_PORT" exec node oidc/idp.mjs) \
    >target/e2e-idp.log 2>&1 &
  local idp_pid=$!
  target/release/greenroom serve --config app-config.yaml --config app-config.demo.yaml \
    --config end2end/app-config.e2e-oidc.yaml >target/e2e-oidc-server.log 2>&1 &
  local oidc_pid=$!
  # shellcheck disable=SC2064
  trap "kill $pid $oidc_pid $idp_pid $demo_pid 2>/dev/null || true" EXIT
  local rc=0
  (cd end2end && GREENROOM_E2E_URL="http://127.0.0.1:$e2e_port" \
    GREENROOM_E2E_OIDC_URL="http://127.0.0.1:$GREENROOM_E2E_OIDC_PORT" \
    PLAYWRIGHT_JSON_OUTPUT_NAME=test-results/results.json \
    npx playwright test --reporter=list,json "$@") || rc=$?
  kill -TERM "$pid" "$oidc_pid" 2>/dev/null || true
  local server_rc=0
  wait "$pid" || server_rc=$?
  wait "$oidc_pid" || true
  kill "$demo_pid" "$idp_pid" 2>/dev/null || true
  trap - EXIT
  if [ "$server_rc" != 0 ]; then
    echo "e2e: the server exited with status $server_rc after SIGTERM (expected a clean shutdown); its log:" >&2
    tail -n 40 "$log" >&2
    rc=1
  fi
  if [ -f "$results" ]; then
    node -e '
      const s = require(process.argv[1]).stats;
      console.log(`playwright: ${s.expected + s.flaky} passed, ${s.unexpected} failed, ${s.skipped} skipped`);
    ' "$root/$results" | tee target/e2e-summary.txt
  else
    echo "playwright: 0 passed, 1 failed (no results file: Playwright did not run)" | tee target/e2e-summary.txt
    rc=1
  fi
  return "$rc"
}

case "$cmd" in
  run)
    scripts/setup.sh
    scripts/build.sh --release
    mkdir -p target
    start_demo_cluster target/demo-cluster
    # shellcheck disable=SC2064
    trap "kill $demo_pid 2>/dev/null || true" EXIT INT TERM
    echo "demo clusters: $(sed -n 's/^  \(.*\) → \(.*\)$/\1 \2/p' target/demo-cluster.log | paste -sd ',' -) (state in target/demo-cluster)"
    target/release/greenroom serve --config app-config.yaml --config app-config.demo.yaml "$@"
    ;;
  build)
    scripts/setup.sh
    scripts/build.sh "$@"
    ;;
  e2e)
    run_e2e "$@"
    ;;
  compat)
    (cd end2end/compat && exec node run.mjs "$@")
    ;;
  test)
    scripts/setup.sh --test
    scripts/build.sh --release
    . ./env.sh
    failures=0
    mkdir -p target

    checks_passed=0 checks_failed=0
    echo "== check: the wasm bundle's dependency tree holds no server-only crate"
    if scripts/check-wasm-deps.sh; then checks_passed=$((checks_passed + 1)); else checks_failed=$((checks_failed + 1)); failures=1; fi
    echo "== check: no two modules of server/src import each other (directly or around a loop)"
    if python3 scripts/check-module-loops.py server/src; then checks_passed=$((checks_passed + 1)); else checks_failed=$((checks_failed + 1)); failures=1; fi
    echo "== check: the catalog API answers as Backstage's catalog backend does (end2end/compat)"
    if (cd end2end/compat && node run.mjs); then checks_passed=$((checks_passed + 1)); else checks_failed=$((checks_failed + 1)); failures=1; fi

    echo "== cargo test (release profile: reuses the artefacts built above)"
    set +e
    # Unit and integration tests; the benchmark examples are built when they are run.
    cargo test --release -p server -p app -p demo-cluster --features app/ssr --lib --bins --tests 2>&1 | tee target/cargo-test.log
    cargo_rc=${PIPESTATUS[0]}
    set -e
    [ "$cargo_rc" = 0 ] || failures=1
    cargo_passed=$(awk '/^test result:/ { for (i = 1; i <= NF; i++) if ($(i+1) ~ /^passed/) s += $i } END { print s + 0 }' target/cargo-test.log)
    cargo_failed=$(awk '/^test result:/ { for (i = 1; i <= NF; i++) if ($(i+1) ~ /^failed/) s += $i } END { print s + 0 }' target/cargo-test.log)
    if [ "$cargo_rc" != 0 ] && [ "$cargo_failed" = 0 ]; then cargo_failed=1; fi

    echo "== Playwright (Debian Chromium) against the release binary and release wasm"
    run_e2e || failures=1
    read -r _ pw_passed _ pw_failed _ < <(tr -d ',' < target/e2e-summary.txt)

    echo
    echo "== summary"
    echo "checks: $checks_passed passed, $checks_failed failed"
    echo "cargo: $cargo_passed passed, $cargo_failed failed"
    echo "playwright: $pw_passed passed, $pw_failed failed"
    echo "$((checks_passed + cargo_passed + pw_passed)) passed, $((checks_failed + cargo_failed + pw_failed)) failed"
    exit "$failures"
    ;;
  *)
    sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
    ;;
esac
