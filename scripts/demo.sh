#!/usr/bin/env bash
# `npm run demo`: builds the package, starts the mock Gemini and the demo page, prints the URL.
# DEMO_PORT / MOCK_PORT choose the ports (defaults 8080 / 8787).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh
mock_port="${MOCK_PORT:-8787}"; demo_port="${DEMO_PORT:-8080}"
node mock/gemini-mock.mjs --port "$mock_port" --latency-ms "${MOCK_LATENCY_MS:-400}" --tokens-per-second "${MOCK_TPS:-2000}" &
mock_pid=$!
trap 'kill $mock_pid 2>/dev/null' EXIT
node scripts/serve.mjs --port "$demo_port" --mock-url "http://127.0.0.1:$mock_port" &
serve_pid=$!
trap 'kill $mock_pid $serve_pid 2>/dev/null' EXIT
sleep 0.5
echo
echo "  Demo:        http://127.0.0.1:$demo_port/"
echo "  Mock Gemini: http://127.0.0.1:$mock_port  (no key needed; paste a real key on the page to use Gemini)"
echo "  Ctrl-C to stop."
wait
