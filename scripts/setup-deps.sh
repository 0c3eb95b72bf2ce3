#!/usr/bin/env bash
# Installs, from Debian bookworm's packages, whatever the build and tests
# need and this machine lacks. Safe to run again: it installs nothing when
# everything is there. Needs root or sudo when something is missing.
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config git curl ca-certificates python3
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libabsl-dev libcpp-httplib-dev libssl-dev zlib1g-dev libbrotli-dev
  libgtest-dev libgmock-dev libbenchmark-dev nlohmann-json3-dev
  libhiredis-dev redis-server redis-sentinel
  python3-grpcio python3-protobuf python3-yaml nodejs npm
  file python3-grpc-tools python3-venv python3-setuptools python3-wheel python3-pip  # packaging (tests/packages)
  chromium  # clients/js's browser tests (headless)
  clang libclang-rt-14-dev  # the fuzz flavour (libFuzzer, tests/fuzz)
  clang-tidy cppcheck clang-format  # scripts/lint.sh
  prometheus  # promtool: tests/helm checks /metrics, the chart's alert rules and their tests
  haproxy  # tests/fault/fault_chaos_test.cc: the load balancer in front of the replicas
)
# Extra package groups for other commands: scripts/setup-deps.sh bench
if [[ "${1:-}" == "bench" ]]; then
  PACKAGES+=(nginx-light libnginx-mod-nchan pushpin)
fi
# scripts/soak.sh's plot.
if [[ "${1:-}" == "soak" ]]; then
  PACKAGES+=(python3-matplotlib)
fi

# A package that only provides a command counts as there when the command
# is: Node.js from another source (NodeSource's `nodejs` ships npm and
# conflicts with Debian's `npm` package) must not be replaced.
declare -A COMMAND_OF=([nodejs]=node [npm]=npm)

missing=()
for p in "${PACKAGES[@]}"; do
  if [[ -n "${COMMAND_OF[$p]:-}" ]] && command -v "${COMMAND_OF[$p]}" >/dev/null; then
    continue
  fi
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if ((${#missing[@]} == 0)); then
  exit 0
fi

SUDO=""
if [[ $(id -u) -ne 0 ]]; then
  SUDO="sudo"
fi
echo "setup-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# Only promtool is wanted from prometheus: the server the package starts (on
# machines with systemd) would hold port 9090, the bridge's admin port.
if [[ " ${missing[*]} " == *" prometheus "* ]] && command -v systemctl >/dev/null \
   && [[ -d /run/systemd/system ]]; then
  $SUDO systemctl disable --now prometheus >/dev/null 2>&1 || true
fi
