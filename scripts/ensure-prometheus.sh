#!/usr/bin/env bash
# Prometheus, promtool, Alertmanager and amtool from Debian's packages (prometheus,
# prometheus-alertmanager), unpacked into .cache/prom/root once: downloaded with apt and
# extracted with dpkg, not installed (nothing starts, nothing outside .cache changes).
# Prints the directory holding the binaries.
set -euo pipefail
cd "$(dirname "$0")/.."
root=".cache/prom/root"
bin="$root/usr/bin"
if [ -x "$bin/prometheus" ] && [ -x "$bin/promtool" ] && [ -x "$bin/prometheus-alertmanager" ] && [ -x "$bin/amtool" ]; then
  echo "$PWD/$bin"
  exit 0
fi
mkdir -p .cache/prom/debs
cd .cache/prom/debs
rm -f ./*.deb
if ! apt-get download prometheus prometheus-alertmanager >&2 2>/dev/null; then
  apt-get update >&2
  apt-get download prometheus prometheus-alertmanager >&2
fi
cd ../../..
rm -rf "$root"
for deb in .cache/prom/debs/*.deb; do dpkg -x "$deb" "$root"; done
"$bin/promtool" --version >&2
echo "$PWD/$bin"
