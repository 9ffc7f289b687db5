#!/usr/bin/env bash
# Builds the npm package: pkg/web (--target web, for <script type=module> and init()) and
# pkg/bundler (--target bundler, wasm imported as an ES module), optimizes them with binaryen after making
# std's panic entry points trap at once (scripts/optimize.mjs), shortens the names the .wasm and its glue
# share and minifies the glue (scripts/shrink.mjs), lays out the publishable package in
# dist/ (scripts/pack.mjs: web/ + bundler/ + docs + its own package.json), then prints the sizes.
set -euo pipefail
cd "$(dirname "$0")/.."
# One build at a time in this work tree: two concurrent wasm-pack runs clobber each other's files in pkg/.
exec 9<scripts/build.sh
flock 9
scripts/ensure-tools.sh build
export PATH="$HOME/.cargo/bin:$PWD/node_modules/.bin:$PATH"
# Panic locations (which ship as strings) name the toolchain's sources as std's own do (`/rustc/<commit>/library/...`,
# so each file is named once) and registry crates without the local cargo home: shorter, and the same on any machine.
sysroot="$(rustc --print sysroot)"
commit="$(rustc -vV | sed -n 's/^commit-hash: //p')"
remap="--remap-path-prefix=$sysroot/lib/rustlib/src/rust=/rustc/$commit"
for reg in "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/; do remap="$remap --remap-path-prefix=${reg%/}="; done
export RUSTFLAGS="${RUSTFLAGS:+$RUSTFLAGS }$remap"
for target in web bundler; do
  echo "[build] wasm-pack build --release --target $target" >&2
  wasm-pack --log-level warn build --release --mode no-install --target "$target" --out-dir "pkg/$target" --out-name gemini_roadmap >&2
  rm -f "pkg/$target/.gitignore"
done
node scripts/optimize.mjs pkg/web pkg/bundler
node scripts/shrink.mjs pkg/web pkg/bundler
node scripts/pack.mjs
node scripts/size.mjs
