#!/usr/bin/env bash
# Installs everything Tecrax needs and runs every check; CI runs exactly this (.ci/run).
#
# Usage: bash scripts/test-all.sh [extra pytest arguments]
# Phases, each printed with a timestamp and its duration:
#   system        Debian packages the lab and the checks need (apt-get, only when missing)
#   venv          .venv with Python 3.11 and a non-editable `pip install ".[test]"`;
#                 reused when pyproject.toml, the Python version and its `pip freeze` are
#                 unchanged (only the project itself is reinstalled then)
#   wheel-layout  the installed package finds its profile and collection in site-packages
#   validators    scripts/validate_public_truth.py, scripts/validate_secret_topology.py,
#                 scripts/validate_active_profile.py, and ShellCheck over the repository's
#                 shell scripts
#   collection    scripts/collection_checks.sh (ansible-test sanity, ansible-lint, build,
#                 ansible-builder create of the execution environment)
#   pytest        python -m pytest from the repository root (last, so its summary closes
#                 the output; "no tests collected" is a failure)
# Environment: TECRAX_PYTHON (interpreter for .venv, default python3.11),
#              TECRAX_FRESH_VENV=1 (rebuild .venv even when it could be reused).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

# openjdk-17-jre-headless: ansible-rulebook's rule engine (Drools) runs on Java 17
# (tests/integration/test_eda.py).
APT_PACKAGES=(debootstrap systemd-container iproute2 openssh-client openssl util-linux git shellcheck
    openjdk-17-jre-headless)
PYTHON="${TECRAX_PYTHON:-python3.11}"
VENV="$ROOT/.venv"
VPY="$VENV/bin/python"
STAMP="$VENV/.tecrax-env"

export PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONUNBUFFERED=1

die() { echo "test-all: error: $*" >&2; exit 2; }
now() { date '+%H:%M:%S'; }
elapsed() {  # time since $1 (an EPOCHREALTIME value), in seconds with one decimal
    local start="${1/[.,]/}" end="${EPOCHREALTIME/[.,]/}"
    local tenths=$(((end - start) / 100000))
    echo "$((tenths / 10)).$((tenths % 10))s"
}

RESULTS=()
FAILED=0
# run_phase NAME COMMAND...: runs COMMAND in a subshell under `set -e`, records PASS or FAIL
# and the duration, and returns COMMAND's status (the caller decides whether to go on).
run_phase() {
    local name="$1" start="$EPOCHREALTIME" rc
    shift
    echo "[$(now)] >>> $name"
    set +e
    (set -e; "$@")
    rc=$?
    set -e
    if [[ $rc -eq 0 ]]; then
        RESULTS+=("$name: PASS in $(elapsed "$start")")
    else
        RESULTS+=("$name: FAIL (exit $rc) in $(elapsed "$start")")
        FAILED=1
    fi
    echo "[$(now)] <<< ${RESULTS[-1]}"
    return "$rc"
}

phase_system() {
    local missing=() package
    for package in "${APT_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
    done
    if [[ ${#missing[@]} -eq 0 ]]; then
        echo "all present: ${APT_PACKAGES[*]}"
        return 0
    fi
    [[ $(id -u) -eq 0 ]] || die "missing Debian packages (${missing[*]}); install them as root"
    echo "installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q --no-install-recommends "${missing[@]}"
}

env_fingerprint() {
    { "$PYTHON" -c 'import sys; print(sys.version)'; cat pyproject.toml; } | sha256sum | cut -d' ' -f1
}

freeze_hash() {
    "$VPY" -m pip freeze --exclude tecrax | sha256sum | cut -d' ' -f1
}

phase_venv() {
    command -v "$PYTHON" >/dev/null || die "$PYTHON not found (set TECRAX_PYTHON to a Python 3.11 interpreter)"
    local fingerprint
    fingerprint="$(env_fingerprint)"
    if [[ "${TECRAX_FRESH_VENV:-0}" != 1 && -x "$VPY" && -f "$STAMP" ]] \
        && [[ "$(cat "$STAMP")" == "$fingerprint $(freeze_hash)" ]]; then
        echo "reusing $VENV (same pyproject.toml, Python and pip freeze); reinstalling the project only"
        "$VPY" -m pip install --quiet --no-deps --force-reinstall .
        return 0
    fi
    echo "creating $VENV"
    rm -rf "$VENV"
    "$PYTHON" -m venv "$VENV"
    "$VPY" -m pip install --quiet ".[test]"
    "$VPY" -m pip check
    echo "$fingerprint $(freeze_hash)" >"$STAMP"
}

phase_wheel_layout() {
    # From outside the repository, the package must find the copies installed with it.
    (cd / && "$VPY" - <<'EOF'
import sysconfig
from pathlib import Path

import tecrax

site = Path(sysconfig.get_paths()["purelib"]).resolve()
for name, value in (("profile_root", tecrax.profile_root()), ("collection_root", tecrax.collection_root())):
    path = Path(value).resolve()
    print(f"{name}: {path}")
    if site not in path.parents:
        raise SystemExit(f"{name} is not inside {site}: the wheel does not carry it")
if not (Path(tecrax.profile_root()) / "profile.yaml").is_file():
    raise SystemExit("the installed profile has no profile.yaml")
if not (tecrax.collection_root() / "galaxy.yml").is_file():
    raise SystemExit("the installed collection has no galaxy.yml")
EOF
    )
}

phase_validators() {
    local rc=0 shell_scripts
    "$VPY" scripts/validate_public_truth.py || rc=1
    "$VPY" scripts/validate_secret_topology.py || rc=1
    "$VPY" scripts/validate_active_profile.py || rc=1
    # The collection's sanity run covers only the collection, so the repository's own shell
    # scripts (CI, checks, lab) are checked here.
    mapfile -t shell_scripts < <(git ls-files --cached --others --exclude-standard -- '*.sh' .ci/run 2>/dev/null || ls scripts/*.sh .ci/run)
    if shellcheck "${shell_scripts[@]}"; then
        echo "shellcheck: OK (${#shell_scripts[@]} scripts)"
    else
        rc=1
    fi
    return "$rc"
}

phase_collection() {
    TECRAX_PY="$VPY" bash scripts/collection_checks.sh
}

phase_pytest() {
    local rc=0
    "$VPY" -m pytest --durations=15 "$@" || rc=$?
    if [[ $rc -eq 5 ]]; then
        echo "test-all: error: pytest collected no tests (exit 5); a run without tests is a failure" >&2
    fi
    return "$rc"
}

echo "[$(now)] test-all: $ROOT (CI=${CI:-false})"
run_phase system phase_system || die "cannot install the Debian packages"
run_phase venv phase_venv || die "cannot create $VENV"
run_phase wheel-layout phase_wheel_layout || true
run_phase validators phase_validators || true
run_phase collection phase_collection || true

echo "[$(now)] test-all: phases so far:"
printf '  %s\n' "${RESULTS[@]}"
run_phase pytest phase_pytest "$@" || true

if [[ $FAILED -ne 0 ]]; then
    echo "test-all: FAILED:" >&2
    printf '  %s\n' "${RESULTS[@]}" >&2
    exit 1
fi
