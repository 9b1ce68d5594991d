#!/usr/bin/env bash
# Checks the tecrax.ops collection the way Ansible users and Galaxy see it:
#   sanity  ansible-test sanity (Python 3.11, local, no containers) on the collection as
#           built, i.e. the tarball extracted at <tmp>/ansible_collections/tecrax/ops: what
#           galaxy.yml's build_ignore leaves out (src/, scripts/, profile/, bench/, the lab
#           and integration tests) is the Python package's, not the collection's
#   lint    ansible-lint --profile production (config: .ansible-lint, offline) on the whole
#           staged repository, with ANSIBLE_COLLECTIONS_PATH above the staged collection
#   build   ansible-galaxy collection build + install of the tarball into a temp path +
#           ansible-doc rendering of every module (and every role with an argument spec)
#   ee      ansible-builder create from execution-environment.yml with a wheel built from
#           the staged copy: the build context must carry that wheel (the image itself needs
#           a container engine; tests/integration/test_execution_environment.py checks what
#           the context installs)
#
# Usage: scripts/collection_checks.sh [sanity] [lint] [build] [ee]   (default: all four)
# Environment:
#   TECRAX_PY             Python interpreter whose environment has ansible-core and
#                         ansible-lint (default: python3); the tools come from its bin dir.
#   TECRAX_SANITY_ARGS    extra arguments for ansible-test sanity, e.g. "--test pep8"
#   TECRAX_KEEP_TMP=1     keep the temp dir (staged copy, tarball, test output) for inspection
#
# The staged copy holds the files git would commit (tracked plus untracked, not ignored),
# so local leftovers (.venv, caches, tests/output) never reach the checks. Only ansible-test's
# per-test requirements are fetched from PyPI; its pip bootstrap script, which it would
# download from elsewhere, is replaced by scripts/ansible_test_get_pip.py (see there).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="${TECRAX_PY:-python3}"
NAMESPACE=tecrax
NAME=ops

die() { echo "collection_checks: error: $*" >&2; exit 2; }
elapsed() {  # seconds since $1 (an EPOCHREALTIME value), with one decimal
    local start="${1/[.,]/}" end="${EPOCHREALTIME/[.,]/}"
    local tenths=$(((end - start) / 100000))
    echo "$((tenths / 10)).$((tenths % 10))s"
}

# --- tools ----------------------------------------------------------------------------
command -v "$PY" >/dev/null 2>&1 || die "TECRAX_PY=$PY is not an executable"
PY_BIN="$("$PY" -c 'import os, sys; print(os.path.dirname(sys.executable))')"
for tool in ansible-test ansible-lint ansible-galaxy ansible-doc ansible-builder; do
    [[ -x "$PY_BIN/$tool" ]] || die "$tool not found in $PY_BIN (install the project's test extras into the environment of $PY)"
done
export PATH="$PY_BIN:$PATH"
export ANSIBLE_NOCOLOR=1 ANSIBLE_FORCE_COLOR=0 PY_COLORS=0

CHECKS=("$@")
[[ ${#CHECKS[@]} -gt 0 ]] || CHECKS=(sanity lint build ee)
for check in "${CHECKS[@]}"; do
    case "$check" in sanity|lint|build|ee) ;; *) die "unknown check '$check' (expected sanity, lint, build or ee)";; esac
done

WORK="$(mktemp -d -t tecrax-collection-checks.XXXXXX)"
# shellcheck disable=SC2317  # invoked by the EXIT trap
cleanup() {
    if [[ "${TECRAX_KEEP_TMP:-0}" == 1 ]]; then
        echo "collection_checks: kept $WORK"
    else
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT
# An empty config keeps a user's or the system's ansible.cfg out of the checks.
: >"$WORK/ansible.cfg"
export ANSIBLE_CONFIG="$WORK/ansible.cfg"

# --- staged copy at ansible_collections/<namespace>/<name> -----------------------------
list_files() {
    if git -C "$ROOT" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
        git -C "$ROOT" ls-files -z --cached --others --exclude-standard
    else
        (cd "$ROOT" && find . \( -name .git -o -name .venv -o -name __pycache__ -o -name .pytest_cache \
            -o -name .hypothesis -o -path ./tests/output -o -name '*.egg-info' -o -path ./build -o -path ./dist \) -prune \
            -o \( -type f -o -type l \) -print0 | sed -z 's|^\./||')
    fi
}

STAGE_ROOT="$WORK/stage"
STAGE="$STAGE_ROOT/ansible_collections/$NAMESPACE/$NAME"
mkdir -p "$STAGE"
# Tracked files deleted in the work tree are still listed by git; copy only what exists.
(cd "$ROOT" && list_files | while IFS= read -r -d '' path; do
    [[ -e "$path" || -L "$path" ]] && printf '%s\0' "$path"
done | tar --null -T - -cf - | tar -xf - -C "$STAGE")

module_names() {
    local file
    for file in "$STAGE"/plugins/modules/*.py; do
        [[ -e "$file" ]] || continue
        file="$(basename "$file" .py)"
        [[ "$file" == __init__ ]] || echo "$file"
    done
}

role_names() {
    local spec
    for spec in "$STAGE"/roles/*/meta/argument_specs.y*ml; do
        [[ -e "$spec" ]] && basename "$(dirname "$(dirname "$spec")")"
    done
    return 0
}

# --- ansible-test's pip bootstrap, offline ---------------------------------------------
# ansible-test (ansible_test/_util/target/setup/requirements.py, bootstrap()) uses
# ~/.ansible/test/cache/get_pip_<X_Y>.py when it exists; the pip version comes from
# get_venv_packages() in ansible_test/_internal/python_requirements.py.
prepare_pip_bootstrap() {
    local version cache script wheel
    version="$("$PY" - <<'EOF'
import pathlib, re, ansible_test
source = pathlib.Path(ansible_test.__file__).parent / "_internal" / "python_requirements.py"
match = re.search(r"default_packages = dict\(\s*pip='([0-9.]+)'", source.read_text())
print(match.group(1) if match else "")
EOF
)"
    [[ -n "$version" ]] || die "cannot find the pip version ansible-test bootstraps (did ansible_test/_internal/python_requirements.py change?)"
    cache="$HOME/.ansible/test/cache"
    script="$cache/get_pip_${version//./_}.py"
    wheel="$cache/pip-$version-py3-none-any.whl"
    mkdir -p "$cache"
    if [[ ! -f "$wheel" ]]; then
        "$PY" -m pip download --quiet --no-deps --only-binary=:all: --dest "$cache" "pip==$version" \
            || die "cannot download pip==$version from the package index"
    fi
    if [[ -f "$script" ]] && ! grep -q tecrax-offline-get-pip-stand-in "$script"; then
        echo "collection_checks: using existing $script (not ours)"
    else
        cp "$ROOT/scripts/ansible_test_get_pip.py" "$script"
    fi
}

# --- the collection tarball, built once ---------------------------------------------------
DIST="$WORK/dist"
tarball() {
    if [[ ! -d "$DIST" ]]; then
        mkdir -p "$DIST"
        ansible-galaxy collection build "$STAGE" --output-path "$DIST" >&2
    fi
    local built
    built="$(find "$DIST" -name "$NAMESPACE-$NAME-*.tar.gz" -print -quit)"
    [[ -n "$built" ]] || { echo "no collection tarball was built" >&2; return 1; }
    echo "$built"
}

# --- checks ----------------------------------------------------------------------------
check_sanity() {
    local built extracted="$WORK/sanity/ansible_collections/$NAMESPACE/$NAME"
    built="$(tarball)"
    mkdir -p "$extracted"
    tar -xzf "$built" -C "$extracted"
    prepare_pip_bootstrap
    # shellcheck disable=SC2086  # TECRAX_SANITY_ARGS is a list of words on purpose
    (cd "$extracted" && ansible-test sanity --python 3.11 --color no ${TECRAX_SANITY_ARGS:-})
}

check_lint() {
    # ansible-lint puts ANSIBLE_HOME/collections before the given path: an empty home keeps a
    # tecrax.ops installed in the user's ~/.ansible from shadowing the staged one.
    mkdir -p "$WORK/ansible-home"
    (cd "$STAGE" && ANSIBLE_HOME="$WORK/ansible-home" ANSIBLE_COLLECTIONS_PATH="$STAGE_ROOT" \
        ansible-lint --profile production --nocolor)
}

check_build() {
    local installed="$WORK/installed" built name modules roles
    built="$(tarball)"
    mkdir -p "$installed"
    export ANSIBLE_COLLECTIONS_PATH="$installed"
    ansible-galaxy collection install --offline --force -p "$installed" "$built"
    mapfile -t modules < <(module_names)
    mapfile -t roles < <(role_names)
    echo "modules: ${modules[*]:-(none)}; roles with argument specs: ${roles[*]:-(none)}"
    for name in "${modules[@]}"; do
        ansible-doc -t module "$NAMESPACE.$NAME.$name" >"$WORK/doc-$name.txt" \
            || { echo "ansible-doc failed for module $name" >&2; return 1; }
        grep -q "^> MODULE $NAMESPACE.$NAME.$name" "$WORK/doc-$name.txt" \
            || { echo "ansible-doc output for module $name has no heading" >&2; return 1; }
        echo "rendered module $NAMESPACE.$NAME.$name ($(wc -l <"$WORK/doc-$name.txt") lines)"
    done
    for name in "${roles[@]}"; do
        ansible-doc -t role "$NAMESPACE.$NAME.$name" >"$WORK/doc-role-$name.txt" \
            || { echo "ansible-doc failed for role $name" >&2; return 1; }
        echo "rendered role $NAMESPACE.$NAME.$name ($(wc -l <"$WORK/doc-role-$name.txt") lines)"
    done
    # What a galaxy user runs first: a playbook of the installed collection by its FQCN.
    ansible-playbook -i localhost, -c local -e "ansible_python_interpreter=$PY" \
        "$NAMESPACE.$NAME.host_inventory" >"$WORK/playbook.txt" \
        || { tail -20 "$WORK/playbook.txt" >&2; echo "ansible-playbook $NAMESPACE.$NAME.host_inventory failed" >&2; return 1; }
    grep -q "ok=1 .*failed=0" "$WORK/playbook.txt" \
        || { echo "ansible-playbook $NAMESPACE.$NAME.host_inventory did not report ok=1" >&2; return 1; }
    echo "ran playbook $NAMESPACE.$NAME.host_inventory from the installed collection"
}

check_ee() {
    local work="$WORK/ee" wheel
    mkdir -p "$work/dist/ee"
    cp "$STAGE/execution-environment.yml" "$work/"
    "$PY" -m pip wheel --quiet --no-deps --wheel-dir "$work/dist/ee" "$STAGE"
    wheel="$(cd "$work/dist/ee" && echo tecrax-*.whl)"
    (cd "$work" && ansible-builder create --file execution-environment.yml --context context --output-filename Containerfile)
    [[ -f "$work/context/_build/tecrax/$wheel" ]] \
        || { echo "the execution environment's build context does not carry $wheel" >&2; return 1; }
    echo "ansible-builder create: build context with $wheel ($(grep -c '^FROM ' "$work/context/Containerfile") build stages)"
}

SUMMARY=()
FAILED=0
for check in "${CHECKS[@]}"; do
    echo "=== collection_checks: $check"
    start="$EPOCHREALTIME"
    # The check runs in a subshell that is no condition, so `set -e` stops it at its first
    # failing command while this loop goes on to the next check.
    set +e
    (set -e; case "$check" in sanity) check_sanity ;; lint) check_lint ;; build) check_build ;; ee) check_ee ;; esac)
    rc=$?
    set -e
    if [[ $rc -eq 0 ]]; then status=PASS; else status="FAIL (exit $rc)"; FAILED=1; fi
    SUMMARY+=("$check: $status in $(elapsed "$start")")
done

echo "=== collection_checks summary"
printf '%s\n' "${SUMMARY[@]}"
exit "$FAILED"
