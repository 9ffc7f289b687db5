#!/usr/bin/env bash
# Installs what the build and the tests need, idempotently: every step is skipped when already done.
# Usage: scripts/ensure-tools.sh [build|browsers|all]   (default: all)
set -euo pipefail
cd "$(dirname "$0")/.."
what="${1:-all}"
say() { echo "[tools] $*" >&2; }
export PATH="$HOME/.cargo/bin:$PWD/node_modules/.bin:$PATH"

# The exact wasm-bindgen version the crate is pinned to: the CLI must match it byte for byte.
wb_version() { grep -A1 '^name = "wasm-bindgen"$' Cargo.lock | sed -n 's/^version = "\(.*\)"/\1/p'; }

if ! rustup target list --installed 2>/dev/null | grep -q wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"; rustup target add wasm32-unknown-unknown >&2
fi
if [ ! -f Cargo.lock ]; then cargo generate-lockfile >&2; fi
if ! command -v wasm-pack >/dev/null; then
  say "installing wasm-pack"; cargo install wasm-pack --locked >&2
fi
want="$(wb_version)"
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$want" ]; then
  # Not --locked: the CLI's own lockfile pins crates that no longer build on current Rust.
  say "installing wasm-bindgen-cli $want"; cargo install wasm-bindgen-cli --version "$want" --force >&2
fi
# npm records what it installed in node_modules/.package-lock.json: older than the lockfile means stale.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  # binaryen from npm: Debian's wasm-opt 108 silently emits a broken module.
  say "installing npm dev dependencies"; npm ci --no-audit --no-fund >&2
fi

if [ "$what" = "browsers" ] || [ "$what" = "all" ]; then
  pkgs=()
  command -v chromium >/dev/null || pkgs+=(chromium)
  command -v chromedriver >/dev/null || pkgs+=(chromium-driver)
  command -v firefox-esr >/dev/null || command -v firefox >/dev/null || pkgs+=(firefox-esr)
  if [ ${#pkgs[@]} -gt 0 ]; then
    say "installing ${pkgs[*]} (apt)"
    apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${pkgs[@]}" >&2
  fi
  if ! command -v geckodriver >/dev/null; then
    say "installing geckodriver"; cargo install geckodriver --locked >&2 || cargo install geckodriver >&2
  fi
fi
