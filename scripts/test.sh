#!/usr/bin/env bash
# `npm test`: every suite of the project, each checked against the number of tests it must run
# (tests/expected-counts.json), so a silently skipped suite fails. Ends with "N passed, M failed".
set -uo pipefail
cd "$(dirname "$0")/.."
scripts/ensure-tools.sh all || { echo "tool installation failed"; echo "0 passed, 1 failed"; exit 1; }
export PATH="$HOME/.cargo/bin:$PWD/node_modules/.bin:$PATH"
export WASM_BINDGEN_TEST_TIMEOUT="${WASM_BINDGEN_TEST_TIMEOUT:-300}"
out=test-output; mkdir -p "$out"
only="${TEST_SUITES:-lint native mock wasm-node chrome firefox types integration page resources}"

mock_pid=""
cleanup() { [ -n "$mock_pid" ] && kill "$mock_pid" 2>/dev/null; }
trap cleanup EXIT
start_mock() {
  node mock/gemini-mock.mjs --port 0 --quiet > "$out/mock.log" 2>&1 &
  mock_pid=$!
  for _ in $(seq 1 100); do
    url=$(sed -n 's/^MOCK_GEMINI_LISTENING \(.*\)$/\1/p' "$out/mock.log" | head -n1)
    [ -n "$url" ] && { export MOCK_GEMINI_URL="$url"; echo "[test] mock Gemini at $url"; return 0; }
    sleep 0.1
  done
  echo "[test] mock Gemini did not start:"; cat "$out/mock.log"; return 1
}
start_mock || { echo "0 passed, 1 failed"; exit 1; }

expected() { node -e "const c=require('./tests/expected-counts.json'); console.log(c[process.argv[1]] ?? 0)" "$1"; }

total_pass=0; total_fail=0; summary=""
# Sums the closing lines of cargo test / wasm-bindgen-test-runner ("N passed; M failed") and node --test TAP ("# pass N").
count() {
  local log="$1"
  local p f
  p=$(grep -aoE '(test result: [A-Za-z]+\. )[0-9]+ passed' "$log" | grep -oE '[0-9]+ passed' | awk '{s+=$1} END {print s+0}')
  f=$(grep -aoE 'test result: [A-Za-z]+\. [0-9]+ passed; [0-9]+ failed' "$log" | grep -oE '[0-9]+ failed' | awk '{s+=$1} END {print s+0}')
  p=$((p + $(grep -aE '^# pass [0-9]+' "$log" | awk '{s+=$3} END {print s+0}')))
  f=$((f + $(grep -aE '^# fail [0-9]+' "$log" | awk '{s+=$3} END {print s+0}')))
  echo "$p $f"
}
suite() {
  local name="$1"; shift
  case " $only " in *" $name "*) ;; *) return 0 ;; esac
  echo "=== suite $name: $*"
  local log="$out/$name.log"
  ( eval "$@" ) 2>&1 | tee "$log"
  local rc=${PIPESTATUS[0]}
  read -r p f < <(count "$log")
  local want; want=$(expected "$name")
  local verdict="ok"
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; verdict="exit code $rc"; fi
  if [ "$p" -lt "$want" ]; then verdict="ran $p tests, expected at least $want"; f=$((f + 1)); fi
  [ "$f" -gt 0 ] && [ "$verdict" = ok ] && verdict="failures"
  total_pass=$((total_pass + p)); total_fail=$((total_fail + f))
  summary+=$(printf '\n%-10s %5s passed %4s failed  (expected >= %s)  %s' "$name" "$p" "$f" "$want" "$verdict")
}

wasm_test() { wasm-pack --log-level warn test --mode no-install "$@"; }
# Lints, native and wasm (the wasm-only modules are linted only there); runs no tests, fails on any warning.
lint() {
  # clippy ships with rustup's default profile; a toolchain without it cannot fetch it here (no rustup downloads).
  cargo clippy --version > /dev/null 2>&1 || { echo "[lint] cargo clippy is not installed: skipped"; return 0; }
  cargo clippy --all-targets -- -D warnings && cargo clippy --all-targets --target wasm32-unknown-unknown -- -D warnings
}
suite lint lint
suite native "cargo test --all-targets --no-fail-fast 2>&1"
suite mock "node --test --test-reporter=tap mock/test/"
suite wasm-node "wasm_test --node -- --test web_node"
suite chrome "wasm_test --headless --chrome --chromedriver \"\$(command -v chromedriver)\" -- --test web_browser --test web_roadmap --test web_faults --test web_safety"
suite firefox "wasm_test --headless --firefox --geckodriver \"\$(command -v geckodriver)\" -- --test web_browser --test web_roadmap --test web_faults --test web_safety"
# The suites below use the built package (pkg/), as a user would.
case " $only " in *" types "*|*" page "*|*" integration "*|*" resources "*) bash scripts/build.sh > "$out/build.log" 2>&1 || { echo "[test] build failed:"; cat "$out/build.log"; total_fail=$((total_fail + 1)); } ;; esac
suite types "node --test --test-reporter=tap tests/types/"
suite resources "node --test --test-reporter=tap --test-concurrency=1 tests/resources/"
suite page "node --test --test-reporter=tap --test-concurrency=1 tests/page/"
suite integration "node --test --test-reporter=tap --test-concurrency=1 tests/integration/"

echo
echo "=== summary$summary"
echo
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
