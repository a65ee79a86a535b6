#!/usr/bin/env bash
# Lint, then run the suite on SQLite (everything, browser tests included), then the
# database-facing tests again on PostgreSQL when a server answers.
# With CI=true nothing may be skipped: a missing PostgreSQL or Chromium fails.
set -uo pipefail
cd "$(dirname "$0")/.."
PYTEST=.venv/bin/pytest
PG_URL="${TEST_POSTGRES_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/test}"
status=0

echo "== Lint: ruff (settings in pyproject.toml)"
.venv/bin/ruff check . || status=$?

echo "== Leg 1: SQLite, whole suite (unit, integration, end-to-end in Chromium)"
$PYTEST "$@" || status=$?

if .venv/bin/python - "$PG_URL" <<'PY' 2>/dev/null
import sys, psycopg
url = sys.argv[1].replace("postgresql+psycopg://", "postgresql://")
psycopg.connect(url, connect_timeout=3).close()
PY
then
  echo "== Leg 2: PostgreSQL at ${PG_URL#*@}, every test but the browser ones"
  TEST_DATABASE_URL="$PG_URL" $PYTEST -m "not e2e" "$@" || status=$?
elif [ "${CI:-}" = "true" ]; then
  echo "FAILED: PostgreSQL does not answer at ${PG_URL#*@}; with CI=true the PostgreSQL leg may not be skipped." >&2
  status=1
else
  echo "SKIPPED: the PostgreSQL leg (no server answers at ${PG_URL#*@}). Only SQLite was tested."
  echo "         Start PostgreSQL or set TEST_POSTGRES_URL to run it."
fi
exit $status
