#!/usr/bin/env bash
# Builds the firmware with Debian's rustc-web toolchain (Rust 1.96 at /usr/bin, its std
# sources from rust-web-src: `-Zbuild-std` through RUSTC_BOOTSTRAP, no rustup target needed),
# reports its flash size, and runs it in QEMU (mps2-an385, Cortex-M3) with semihosting.
# Exits with the firmware's status: 0 only if both transfers succeeded at all three parties.
#   apt-get install rustc-web cargo-web rust-web-src lld qemu-system-arm
set -euo pipefail
cd "$(dirname "$0")"
export PATH=/usr/bin:$PATH RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1
unset RUSTFLAGS CARGO_BUILD_RUSTFLAGS
elf=target/thumbv7m-none-eabi/release/sipxfer-embedded-example
timeout 1200 /usr/bin/cargo build --release -q
# Flash: what the image puts in ROM (.vector_table, .text, .rodata).
flash=0
for size in $(readelf -S -W "$elf" | sed 's/^ *\[ *[0-9]*\] *//' | awk '$1 ~ /^\.(vector_table|text|rodata)$/ { print $5 }'); do
  flash=$((flash + 16#$size))
done
echo "flash (.vector_table + .text + .rodata): $flash bytes ($((flash / 1024)) KiB)"
timeout 120 qemu-system-arm -cpu cortex-m3 -machine mps2-an385 -nographic \
  -semihosting-config enable=on,target=native -kernel "$elf"
