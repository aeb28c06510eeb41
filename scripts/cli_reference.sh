#!/bin/sh
# Write the reference of the mlops tool (docs/cli.md) from its own help texts:
#   sh scripts/cli_reference.sh build/examples/mlops/mlops > docs/cli.md
# The smoke test of the tool fails when docs/cli.md differs from this output.
set -eu
tool=$1
cat <<'INTRO'
# The `mlops` command-line tool

`mlops` drives libmlops from a shell: the registry, the feature store, drift
reports and inference, on one database file. This page is generated from the
tool's own help (`sh scripts/cli_reference.sh build/examples/mlops/mlops >
docs/cli.md`); `mlops COMMAND --help` prints the same text.

## Conventions

- **Commands** are one word (`drift`, `predict`) or a group and a verb
  (`model list`, `alias set`, `features ingest`). `mlops GROUP` alone lists
  the group's commands.
- **The database** is `--db FILE`, else `$MLOPS_DB`, else `./mlops.db`.
  Global options come before the command; `--json` may also follow it.
- **Model references** are `NAME@VERSION` (`fraud@3`) or `NAME@ALIAS`
  (`fraud@production`). `predict`, `accuracy` and `plan` take an ONNX file
  or a reference (the artifact is read from the registry into memory).
- **Times** are ISO 8601 in UTC (`2026-03-01T12:00:00Z`) or integer
  microseconds since the epoch.
- **Keys** of the feature store are `COLUMN=VALUE` arguments, one key per
  argument, composite keys joined with commas (`customer_id=42,merchant=acme`),
  or a CSV file given with `--keys`.
- **Output**: read commands print tables sized to the terminal; with
  `--json` they print the library's JSON document as the library returns it
  (listings, versions, reports, plans), or one JSON object built from the
  library's result where the call returns a structure or a frame (ingest
  reports, feature reads).
- **Exit status**: 0 success; 1 failure, with `mlops: <what>: <library
  message>` on standard error; 2 usage error, with a pointer to the
  command's help.
- **Progress bars** (rows or bytes, percent, rate, time left) are drawn on
  standard error during long operations (reading files, storing artifacts,
  ingesting, predicting) only when it is a terminal.

INTRO
printf '## mlops\n\n```text\n'
"$tool" --help
printf '```\n'
"$tool" --help | awk '/^commands:/ {on = 1; next} on && NF == 0 {on = 0} on {sub(/^ +/, ""); sub(/  .*/, ""); print}' |
while IFS= read -r command; do
    printf '\n## mlops %s\n\n```text\n' "$command"
    # shellcheck disable=SC2086 # the words of the command name are separate arguments
    "$tool" $command --help
    printf '```\n'
done
