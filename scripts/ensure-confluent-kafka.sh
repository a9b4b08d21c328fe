#!/usr/bin/env bash
# confluent-kafka-python (librdkafka inside its wheel) from PyPI, in .cache/confluent: a
# producer as a Python user of Vigil writes one, for the drills. Prints the interpreter.
exec "$(dirname "$0")/ensure-venv.sh" confluent "confluent-kafka==2.16.1" python
