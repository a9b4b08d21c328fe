#!/usr/bin/env bash
# Creates the training environment in .cache/py (once per requirements file) from PyPI:
# Python 3.11 with the pinned packages of models/train/requirements.txt. Prints the
# interpreter's path.
set -euo pipefail
cd "$(dirname "$0")/.."
req="models/train/requirements.txt"
py=".cache/py/bin/python"
stamp=".cache/py/.requirements"
if [ -x "$py" ] && [ -f "$stamp" ] && cmp -s "$req" "$stamp"; then
  echo "$PWD/$py"
  exit 0
fi
rm -rf .cache/py
python3 -m venv .cache/py
"$py" -m pip install --quiet --disable-pip-version-check -r "$req" >&2
cp "$req" "$stamp"
echo "$PWD/$py"
