#!/usr/bin/env bash
# confluent-kafka-python (librdkafka inside its wheel) from PyPI, in .cache/confluent: a
# producer as a Python user of Vigil writes one, for the drills. Prints the interpreter.
set -euo pipefail
cd "$(dirname "$0")/.."
version="2.16.1"
py=".cache/confluent/bin/python"
stamp=".cache/confluent/.version"
if [ -x "$py" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$version" ]; then
  echo "$PWD/$py"
  exit 0
fi
rm -rf .cache/confluent
python3 -m venv .cache/confluent
"$py" -m pip install --quiet --disable-pip-version-check "confluent-kafka==$version" >&2
echo "$version" > "$stamp"
echo "$PWD/$py"
