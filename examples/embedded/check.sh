#!/usr/bin/env bash
# The embedded checks CI runs: the core cross-builds (no default features; on the Cortex-M4F
# with the optional `redirects`) for four bare-metal targets, then the firmware example runs a blind and an attended transfer in QEMU.
# Needs Debian's rustc-web cargo-web rust-web-src lld qemu-system-arm (apt).
set -euo pipefail
cd "$(dirname "$0")"
root=$(cd ../.. && pwd)
export PATH=/usr/bin:$PATH RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1
unset RUSTFLAGS CARGO_BUILD_RUSTFLAGS
for target in thumbv7em-none-eabihf thumbv7m-none-eabi thumbv6m-none-eabi riscv32imc-unknown-none-elf; do
  features=()
  flags=
  case "$target" in
    thumbv7em-none-eabihf) features=(--features redirects) ;;
    # No atomic compare-and-swap: `bytes` through portable-atomic, single-core chips.
    thumbv6m-none-eabi | riscv32imc-unknown-none-elf)
      features=(--features portable-atomic)
      flags="--cfg portable_atomic_unsafe_assume_single_core" ;;
  esac
  echo "== core for $target ${features[*]}"
  (cd "$root" && RUSTFLAGS="$flags" timeout 1200 /usr/bin/cargo build -q -Zbuild-std=core,alloc \
    --target "$target" --no-default-features "${features[@]}" -p sipxfer --target-dir target/embedded)
done
echo "== firmware example in QEMU (mps2-an385, Cortex-M3)"
bash run.sh
