#!/usr/bin/env bash
# Builds the bridge's Debian package with CPack:
#
#   scripts/package.sh [build dir]     (default: build/package)
#
# Configures the build dir (RelWithDebInfo; the package's binary is
# stripped) unless it is configured already, builds the bridge and its
# generated man page and /etc/default file, and writes
# <build dir>/packages/ssebridge_<version>_<arch>.deb; the last line of
# output is its path. Install it with:
#
#   sudo apt-get install ./build/package/packages/ssebridge_*.deb
#
# Set SSEBRIDGE_GIT_COMMIT to name the commit where the source has no .git.
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build/package}"
if [[ ! -f "$build/CMakeCache.txt" ]]; then
  # CPack's install step would otherwise build every target (tests too).
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_SKIP_INSTALL_ALL_DEPENDENCY=ON \
    ${SSEBRIDGE_GIT_COMMIT:+-DSSEBRIDGE_GIT_COMMIT="$SSEBRIDGE_GIT_COMMIT"} >/dev/null
fi
cmake --build "$build" -j"$(nproc)" --target ssebridge ssebridge_package_docs
out="$build/packages"
mkdir -p "$out"
# MAKEFLAGS: when the build dir builds everything before installing (it was
# configured without CMAKE_SKIP_INSTALL_ALL_DEPENDENCY), build it in parallel.
(cd "$build" && MAKEFLAGS="-j$(nproc)" cpack -G DEB -B "$PWD/packages" >&2)
deb=$(ls -t "$out"/ssebridge_*.deb | head -1)
dpkg-deb --info "$deb" >&2
echo "$deb"
