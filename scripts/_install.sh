# Sourced by scripts/run and scripts/test: a .venv with the locked dependencies, installed
# only when requirements.lock changed since the last install (so later runs work offline).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

find_python() {
  for candidate in "${PYTHON:-}" python3.13 python3.12 python3.11 python3; do
    [ -n "$candidate" ] || continue
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      echo "$candidate"; return 0
    fi
  done
  echo "Headroom needs Python 3.11 or newer on PATH (or PYTHON=/path/to/python)." >&2
  return 1
}

if [ ! -x .venv/bin/python ]; then
  python=$(find_python)
  echo "==> creating .venv with $($python --version)"
  "$python" -m venv .venv
fi

lock_hash=$(.venv/bin/python -c 'import hashlib,sys; print(hashlib.sha256(open("requirements.lock","rb").read()).hexdigest())')
if [ "$(cat .venv/.installed-lock 2>/dev/null)" != "$lock_hash" ]; then
  echo "==> installing the locked dependencies (requirements.lock)"
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements.lock
  echo "$lock_hash" > .venv/.installed-lock
fi

# dotenv_value FILE NAME DEFAULT: NAME from the environment, else from FILE (.env, read as
# project/settings.py reads it, with django-environ), else DEFAULT.
dotenv_value() {
  .venv/bin/python -c 'import os, sys, environ
environ.Env.read_env(sys.argv[1], overwrite=False)
print(os.environ.get(sys.argv[2], sys.argv[3]))' "$1" "$2" "$3"
}
