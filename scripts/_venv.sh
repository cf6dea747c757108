# Sourced by scripts/run and scripts/test: make sure .venv exists and has this project installed.
# Set `want` before sourcing: "run" (the package and its runtime dependencies, what a user
# installs) or "dev" (plus the test and lint tools). Reinstalls only when pyproject.toml
# changed since the last install; a "dev" install serves "run" too.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.venv"
python="${PYTHON:-python3}"
want="${want:-run}"
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    echo "sparkify-dw needs Python 3.11 or newer ($python is $("$python" --version 2>&1))" >&2
    exit 1
fi
hash="$(sha256sum "$root/pyproject.toml" | cut -c1-16)"
if [ ! -f "$venv/.installed-dev-$hash" ] && [ ! -f "$venv/.installed-$want-$hash" ]; then
    echo "Setting up $venv for $want (first run, or pyproject.toml changed) ..." >&2
    [ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --upgrade pip >&2
    if [ "$want" = dev ]; then
        "$venv/bin/python" -m pip install --quiet -e "$root[dev]" >&2
    else
        "$venv/bin/python" -m pip install --quiet -e "$root" >&2
    fi
    rm -f "$venv"/.installed-*
    touch "$venv/.installed-$want-$hash"
fi
