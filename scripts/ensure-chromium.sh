#!/usr/bin/env bash
# Headless Chromium from Debian's package (chromium), for the console's browser test,
# unpacked into .cache/chromium/root once: apt works out which packages this machine lacks
# (a simulated install of chromium and a font), downloads them and dpkg extracts them; none
# is installed (nothing starts, nothing outside .cache changes). Prints the path of a
# launcher that runs the unpacked browser with its libraries and fonts.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=".cache/chromium"
root="$dir/root"
launcher="$dir/chromium"
# The physical path: .cache may be a link shared between work trees.
mkdir -p "$dir"
abs=$(cd "$dir" && pwd -P)
if [ -x "$launcher" ] && [ -x "$root/usr/lib/chromium/chromium" ] &&
  "$launcher" --headless --no-sandbox --version >/dev/null 2>&1; then
  echo "$PWD/$launcher"
  exit 0
fi
# Installed on this machine already: that one.
if [ -x /usr/bin/chromium ] && /usr/bin/chromium --headless --no-sandbox --version >/dev/null 2>&1; then
  echo /usr/bin/chromium
  exit 0
fi
wanted="chromium fonts-dejavu-core"
# The packages an install would bring, on this machine (the package lists first if needed).
missing() { apt-get install -s --no-install-recommends $wanted 2>/dev/null | awk '/^Inst /{print $2}'; }
list=$(missing || true)
if ! echo "$list" | grep -qx chromium; then
  apt-get update >&2
  list=$(missing)
fi
mkdir -p "$dir/debs"
rm -f "$dir"/debs/*.deb
(cd "$dir/debs" && apt-get download $list >&2)
rm -rf "$root"
for deb in "$dir"/debs/*.deb; do dpkg -x "$deb" "$root"; done
rm -f "$dir"/debs/*.deb
# Fonts: the machine's and the unpacked ones.
cat >"$dir/fonts.conf" <<EOF
<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "fonts.dtd">
<fontconfig>
  <include ignore_missing="yes">/etc/fonts/conf.d</include>
  <include ignore_missing="yes">$abs/root/etc/fonts/conf.d</include>
  <dir>/usr/share/fonts</dir>
  <dir>$abs/root/usr/share/fonts</dir>
  <cachedir>$abs/fontcache</cachedir>
</fontconfig>
EOF
arch=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo x86_64-linux-gnu)
cat >"$launcher" <<EOF
#!/usr/bin/env bash
export LD_LIBRARY_PATH="$abs/root/usr/lib/$arch:$abs/root/usr/lib/$arch/pulseaudio:$abs/root/usr/lib/chromium\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}"
export FONTCONFIG_FILE="$abs/fonts.conf"
exec "$abs/root/usr/lib/chromium/chromium" "\$@"
EOF
chmod +x "$launcher"
"$launcher" --headless --no-sandbox --version >&2
echo "$PWD/$launcher"
