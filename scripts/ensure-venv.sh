#!/usr/bin/env bash
# A Python tool from PyPI in a virtual environment of its own under .cache, made once per
# version: ensure-venv.sh DIR PACKAGE==VERSION COMMAND prints the path of COMMAND (a name
# in the environment's bin/) once DIR holds PACKAGE at VERSION.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=".cache/$1" spec="$2" bin=".cache/$1/bin/$3"
stamp="$dir/.version"
if [ -x "$bin" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$spec" ]; then
  echo "$PWD/$bin"
  exit 0
fi
rm -rf "$dir"
python3 -m venv "$dir"
"$dir/bin/python" -m pip install --quiet --disable-pip-version-check "$spec" >&2
echo "$spec" > "$stamp"
echo "$PWD/$bin"
