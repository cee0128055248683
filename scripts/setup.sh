#!/usr/bin/env bash
# Installs what building regionwalk needs on a fresh Debian machine: HiGHS is compiled from source
# by the highs-sys crate, which needs cmake and libclang (for bindgen). Idempotent.
set -euo pipefail
missing=()
command -v cmake >/dev/null 2>&1 || missing+=(cmake)
# bindgen needs libclang itself (libclang.so or libclang-N.so), not libclang-cpp, which some images
# ship alone.
have_libclang=false
for pattern in '/usr/lib/llvm-*/lib/libclang.so*' '/usr/lib/llvm-*/lib/libclang-[0-9]*.so*' \
  '/usr/lib/*-linux-gnu/libclang.so*' '/usr/lib/*-linux-gnu/libclang-[0-9]*.so*'; do
  compgen -G "$pattern" >/dev/null && have_libclang=true
done
if ! $have_libclang; then
  missing+=(libclang-dev)
fi
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}" >&2
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
command -v cargo >/dev/null 2>&1 || { echo "setup: cargo is required (rustup)" >&2; exit 1; }
