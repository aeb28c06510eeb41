#!/bin/sh
# Regenerate the seed corpus of the fuzz_db_file target: small mlops database
# files made by the library itself (through the mlops tool), then shrunk to
# 512-byte pages in rollback-journal mode so each seed is a few kilobytes.
#   tests/fuzz/make_db_seeds.sh BUILD_DIR
set -eu
build=${1:?usage: $0 BUILD_DIR}
out=$(cd "$(dirname "$0")" && pwd)/corpus/db_file
tool=$build/examples/mlops/mlops
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# An empty database with the current schema, as the library creates it.
"$tool" --db "$work/fresh.db" info >/dev/null
sqlite3 "$work/fresh.db" "PRAGMA journal_mode=DELETE; PRAGMA page_size=512; VACUUM;" >/dev/null
cp "$work/fresh.db" "$out/fresh_512.db"

# The same with audit entries and metadata rows spread over several pages.
cp "$work/fresh.db" "$work/filled.db"
sqlite3 "$work/filled.db" >/dev/null <<'SQL'
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 12)
INSERT INTO audit_log(seq, time_us, actor, action, object, details, prev_hash, hash)
  SELECT i, 1700000000000000 + i, 'seed', 'seed.write', 'object:' || i, '{"i":' || i || '}',
         zeroblob(32), randomblob(32) FROM n;
INSERT INTO mlops_meta(key, value) VALUES ('seed', 'yes');
VACUUM;
SQL
cp "$work/filled.db" "$out/filled_512.db"

# A WAL-mode header (file format versions 2) on the small file.
cp "$work/fresh.db" "$work/wal.db"
sqlite3 "$work/wal.db" "PRAGMA journal_mode=WAL;" >/dev/null
sqlite3 "$work/wal.db" "PRAGMA wal_checkpoint(TRUNCATE);" >/dev/null
cp "$work/wal.db" "$out/wal_512.db"

# Not a database at all, and a header alone.
printf 'SQLite format 3\000' > "$out/header_only.db"
printf 'not a database\n' > "$out/text.db"
ls -l "$out"
