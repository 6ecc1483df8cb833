#!/usr/bin/env bash
# NUTS on four posteriordb posteriors: Stan (pystan), NumPyro and Tyche in
# the same run, then the gradient micro-benchmark. Not run in CI; see
# bench/nuts/README.md. From the repository root or anywhere:
#
#     bash bench/nuts/run.sh                      # everything (about 4 minutes on 2 loaded cores)
#     MODELS=arK,hmm_example bash bench/nuts/run.sh
#     TOOLS=numpyro,tyche bash bench/nuts/run.sh  # skip Stan's model builds
#     SKIP_GRAD=1 bash bench/nuts/run.sh
#
# Needs cargo, python3 (with venv) and g++ (pystan compiles each Stan
# model with it). Installs pinned pystan, numpyro and arviz into
# bench/nuts/.venv (git-ignored) the first time.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="$here/.venv"

# The versions measured in RESULTS.md.
PACKAGES=(pystan==3.10.0 httpstan==4.13.0 numpyro==0.22.0 jax==0.10.2 jaxlib==0.10.2 arviz==0.23.4)

if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import stan, numpyro, arviz" 2>/dev/null; then
    echo "== installing ${PACKAGES[*]} into $venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --upgrade pip
    "$venv/bin/pip" install --quiet "${PACKAGES[@]}"
fi

echo "== building Tyche (release)"
(cd "$root" && cargo build --release -p tyche-cli 2>&1 | tail -1)
if [ -z "${SKIP_GRAD:-}" ]; then
    (cd "$root" && cargo build --release -p tyche-bench --bin bench_grad 2>&1 | tail -1)
fi

echo "== machine"
echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "cores: $(nproc); $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')"
echo "commit: $(git -C "$root" rev-parse --short HEAD)"
echo "load before: $(uptime)"

# A fresh httpstan cache, so that Stan's model build is measured rather
# than found in the cache of an earlier run.
cache="$(mktemp -d -t tyche-nutsbench-cache-XXXXXX)"
trap 'rm -rf "$cache"' EXIT

echo
XDG_CACHE_HOME="$cache" "$venv/bin/python" "$here/bench_nuts.py" \
    --tyche "$root/target/release/tyche" \
    ${MODELS:+--models "$MODELS"} ${TOOLS:+--tools "$TOOLS"}
echo
echo "load after NUTS: $(uptime)"

if [ -z "${SKIP_GRAD:-}" ]; then
    echo
    echo "== gradient evaluation: Tyche's reverse-mode kernel gradient vs hand-written Rust"
    "$root/target/release/bench_grad"
    echo "load after gradients: $(uptime)"
fi
