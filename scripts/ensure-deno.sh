#!/usr/bin/env bash
# Installs the pinned Deno from the npm registry into .cache/deno (once), for machines
# that have Node.js and npm but no Deno. Prints where it is.
set -euo pipefail
cd "$(dirname "$0")/.."
DENO_VERSION="2.9.6"
bin=".cache/deno/node_modules/.bin/deno"
if [ -x "$bin" ] && "$bin" --version 2>/dev/null | grep -q "deno $DENO_VERSION"; then
  echo "$PWD/$bin"
  exit 0
fi
mkdir -p .cache/deno
npm install --silent --no-save --no-audit --no-fund --prefix .cache/deno "deno@$DENO_VERSION" >/dev/null
"$bin" --version >/dev/null
echo "$PWD/$bin"
