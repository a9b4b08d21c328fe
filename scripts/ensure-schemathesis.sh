#!/usr/bin/env bash
# schemathesis from PyPI, in .cache/schemathesis: it fuzzes the served OpenAPI document
# (tests/e2e/schemathesis_test.ts). Prints the path of its command.
exec "$(dirname "$0")/ensure-venv.sh" schemathesis "schemathesis==4.32.5" schemathesis
