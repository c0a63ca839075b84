#!/usr/bin/env bash
# Installs every build and test dependency of lafs from Debian 12 packages. Idempotent: run it
# as often as you like. Each library beyond the core set has a note in docs/decisions/.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config git
  libboost1.81-dev libboost-json1.81-dev
  libprotobuf-dev protobuf-compiler
  libjerasure-dev libgf-complete-dev
  libisal-dev
  libsodium-dev
  libssl-dev
  librocksdb-dev
  librapidcheck-dev
  libgtest-dev libgmock-dev
  libbenchmark-dev
  libcli11-dev
  libicu-dev
  # lafs-sim's allocator (tcmalloc_minimal): decision 0020.
  libgoogle-perftools-dev
  curl
  # The web UI's browser tests (tests/browser/): headless Chromium driven over WebDriver.
  chromium chromium-driver python3 python3-selenium fonts-dejavu-core
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
