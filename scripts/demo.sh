#!/usr/bin/env bash
# `npm run demo`: builds the package, starts the mock Gemini and the demo page, waits until both are
# listening, prints the URL and keeps running until Ctrl-C (which stops both).
#   DEMO_PORT  port of the page        (default 8080; 0 picks a free port)
#   MOCK_PORT  port of the mock Gemini (default 8787; 0 picks a free port)
#   MOCK_LATENCY_MS / MOCK_TPS  the mock's time to first token and output speed (default 400 ms / 2000 tokens/s)
#   SKIP_BUILD=1  reuse the last build
set -euo pipefail
cd "$(dirname "$0")/.."

[ "${SKIP_BUILD:-0}" = 1 ] && [ -f pkg/web/gemini_roadmap.js ] || scripts/build.sh

mock_port="${MOCK_PORT:-8787}"
demo_port="${DEMO_PORT:-8080}"
tmp="$(mktemp -d)"
pids=()

cleanup() {
  trap - EXIT INT TERM
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'echo; echo "Stopping…"; exit 0' INT TERM

# wait_for NAME PID FILE PREFIX: prints the URL that the process announced on stdout, or fails.
wait_for() {
  local name="$1" pid="$2" file="$3" prefix="$4" url
  for _ in $(seq 1 150); do
    url="$(sed -n "s/^$prefix \(http[^ ]*\)$/\1/p" "$file" | head -n1)"
    if [ -n "$url" ]; then echo "$url"; return 0; fi
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "demo: the $name exited before listening" >&2
      return 1
    fi
    sleep 0.1
  done
  echo "demo: the $name did not start within 15 s" >&2
  return 1
}

# The mock logs one line per API request on stderr: left on the terminal on purpose.
node mock/gemini-mock.mjs --port "$mock_port" \
  --latency-ms "${MOCK_LATENCY_MS:-400}" --tokens-per-second "${MOCK_TPS:-2000}" > "$tmp/mock.out" &
pids+=("$!")
mock_url="$(wait_for "mock Gemini (port $mock_port)" "$!" "$tmp/mock.out" MOCK_GEMINI_LISTENING)"

node scripts/serve.mjs --port "$demo_port" --mock-url "$mock_url" > "$tmp/serve.out" &
pids+=("$!")
demo_url="$(wait_for "demo server (port $demo_port)" "$!" "$tmp/serve.out" DEMO_LISTENING)"

cat <<BANNER

  Gemini Roadmap demo

  Open:         $demo_url/
  Mock Gemini:  $mock_url  (the page's offline model; no key needed)
  Real Gemini:  paste your API key on the page; it goes only to generativelanguage.googleapis.com

  Ctrl-C stops both servers.

BANNER

# Runs until Ctrl-C, or until one of the servers dies (then the other is stopped too).
set +e
wait -n "${pids[@]}"
status=$?
set -e
echo "demo: a server stopped (exit $status); shutting down" >&2
exit "$status"
