# Sourced by scripts/run and scripts/test: make .venv a working virtual environment of this
# folder, on Python 3.11 or newer. A venv that is missing, broken, too old, or made for another
# folder (its scripts' #! lines name that folder's interpreter) is rebuilt, never trusted.

pick_python() {
  if [ -n "${PYTHON:-}" ]; then
    echo "$PYTHON"
    return
  fi
  for candidate in python3.11 python3.12 python3.13 python3; do
    if command -v "$candidate" >/dev/null 2>&1 \
      && "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      echo "$candidate"
      return
    fi
  done
  echo python3
}

venv_is_ours() {
  [ -x .venv/bin/python ] || return 1
  # The interpreter runs, is new enough, and this folder's .venv is its prefix.
  .venv/bin/python - "$PWD/.venv" <<'PY' >/dev/null 2>&1 || return 1
import os, sys
ok = sys.version_info >= (3, 11) and os.path.realpath(sys.prefix) == os.path.realpath(sys.argv[1])
sys.exit(0 if ok else 1)
PY
  # Scripts installed in the venv start with #!<this folder>/.venv/bin/python.
  if [ -e .venv/bin/pip ]; then
    case "$(head -n 1 .venv/bin/pip)" in
      "#!$PWD/.venv/bin/python"*) ;;
      *) return 1 ;;
    esac
  fi
  .venv/bin/python -m pip --version >/dev/null 2>&1
}

ensure_venv() {
  if venv_is_ours; then
    return
  fi
  local python
  python=$(pick_python)
  if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    echo "renewquote needs Python 3.11 or newer; $python is $("$python" --version 2>&1)." >&2
    echo "Install python3.11 or set PYTHON=/path/to/python3.11." >&2
    exit 1
  fi
  if [ -e .venv ]; then
    echo "Rebuilding .venv: it is broken or belongs to another folder."
    rm -rf .venv
  fi
  "$python" -m venv .venv
}

# pip's own notices (a newer pip exists) are noise here; its errors still show.
pip_install() {
  .venv/bin/python -m pip install --quiet --disable-pip-version-check "$@"
}

# The portal's French words: the gettext catalogs compiled where the package reads them.
compile_catalogs() {
  .venv/bin/pybabel -q compile -d src/renewquote/locale -D messages
}
