#!/usr/bin/env bash
# kcat (librdkafka's command-line client) from Debian's packages (kcat, librdkafka1,
# libyajl2), unpacked into .cache/kcat/root once: downloaded with apt and extracted with
# dpkg, not installed. Prints the path of a wrapper that runs it with its libraries.
set -euo pipefail
cd "$(dirname "$0")/.."
root=".cache/kcat/root"
wrapper=".cache/kcat/kcat"
if [ -x "$wrapper" ] && "$wrapper" -V >/dev/null 2>&1; then
  echo "$PWD/$wrapper"
  exit 0
fi
mkdir -p .cache/kcat/debs
cd .cache/kcat/debs
rm -f ./*.deb
packages="kcat librdkafka1 libyajl2"
if ! apt-get download $packages >&2 2>/dev/null; then
  apt-get update >&2
  apt-get download $packages >&2
fi
cd ../../..
rm -rf "$root"
for deb in .cache/kcat/debs/*.deb; do dpkg -x "$deb" "$root"; done
libdir="$(dirname "$(find "$PWD/$root" -name 'librdkafka.so.1' | head -1)")"
cat > "$wrapper" <<WRAP
#!/usr/bin/env bash
export LD_LIBRARY_PATH="$libdir\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}"
exec "$PWD/$root/usr/bin/kcat" "\$@"
WRAP
chmod +x "$wrapper"
"$wrapper" -V >&2
echo "$PWD/$wrapper"
