#!/usr/bin/env bash
# Installs the Debian packages the project needs. Idempotent; quiet when all are there.
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  clang libclang-rt-14-dev
  libasio-dev nlohmann-json3-dev libcli11-dev doctest-dev libutf8proc-dev
  libcurl4-openssl-dev libssl-dev libxxhash-dev
  libsimdjson-dev libboost-dev libxml2-dev openssl python3-websockets
  prometheus-cpp-dev python3-prometheus-client python3-yaml
  librdkafka-dev kcat
  libjs-chart.js libjs-jquery
  netcat-openbsd curl
  python3 python3-pandas python3-flask python3-requests python3-pytest
  chromium chromium-driver python3-selenium fonts-dejavu-core
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "setup: installing ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "setup: done"
