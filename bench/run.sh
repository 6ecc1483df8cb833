#!/usr/bin/env bash
# Tyche's benchmarks, run by hand (not part of CI): see bench/README.md.
#
#   bash bench/run.sh            # everything, medians of 3 runs
#   REPS=5 bash bench/run.sh     # medians of 5
#   SKIP_WEBPPL=1 bash bench/run.sh
#   WEBPPL_BIN=/path/to/webppl bash bench/run.sh   # an already installed webppl
#
# 1. builds bench_check and bench_infer in release mode;
# 2. installs webppl@0.9.15 with npm into bench/.webppl (once; skipped with
#    a message when npm is missing) and times the six reference models
#    (bench/webppl/*.wppl, which print their in-process inference time);
# 3. runs bench_infer (Tyche in-process, same models, data and sizes), with
#    the default backend (`auto`: native code where the model allows) and
#    thread pool, again with one thread for the SMC rows, and again on the
#    interpreter (`--backend interp`) for the SMC, MH and dice rows;
# 4. prints `ratio NAME TYCHE/WEBPPL` (in-process wall time; below 1 means
#    Tyche is faster), `ratio_cpu NAME …` (process CPU time), the targets,
#    and bench_check's output.
set -euo pipefail

BENCH="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$BENCH/.." && pwd)"
REPS="${REPS:-3}"
WEBPPL_VERSION=0.9.15
WEBPPL_DIR="$BENCH/.webppl"
WEBPPL="${WEBPPL_BIN:-$WEBPPL_DIR/node_modules/.bin/webppl}"  # WEBPPL_BIN: use another webppl
OUT="$(mktemp -d)"
trap 'rm -rf "$OUT"' EXIT

echo "# Tyche benchmarks — $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "# machine: $(nproc) cores, $(uname -srm); load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# reps: $REPS (medians)"
if command -v git >/dev/null 2>&1 && git -C "$ROOT" rev-parse --git-dir >/dev/null 2>&1; then
    echo "# tree: $(git -C "$ROOT" rev-parse --short HEAD), $(git -C "$ROOT" status --porcelain --untracked-files=no | wc -l) modified tracked files"
fi

# ---------------------------------------------------------------- build
echo "## build"
(cd "$ROOT" && cargo build --release -p tyche-bench --bins 2>&1 | tail -n 1)
BIN="$ROOT/target/release"

# ---------------------------------------------------------------- helpers

# median of the numbers on stdin (one per line)
median() {
    sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) { print "nan" } else if (NR % 2) { print v[(NR + 1) / 2] } else { print (v[NR / 2] + v[NR / 2 + 1]) / 2 } }'
}

# field of the JSON object on stdin
json_field() {
    node -e 'let s = ""; process.stdin.on("data", d => s += d).on("end", () => { const v = JSON.parse(s)[process.argv[1]]; console.log(v === undefined ? "" : JSON.stringify(v)); });' "$1"
}

# value of `KEY NAME VALUE` lines in a bench_infer output file
lookup() { # file key name
    awk -v k="$2" -v n="$3" '$1 == k && $2 == n { print $3 }' "$1" | tail -n 1
}

ratio() { # a b
    awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b + 0 == 0) print "n/a"; else printf "%.4g\n", a / b }'
}

# ---------------------------------------------------------------- WebPPL
# name | arguments after `--`
WEBPPL_RUNS=(
    "lgss_smc_1k|lgss.wppl|--particles 1000"
    "lgss_smc_10k|lgss.wppl|--particles 10000"
    "hmm3_smc_1k|hmm3.wppl|--particles 1000"
    "hmm3_smc_10k|hmm3.wppl|--particles 10000"
    "linreg_mh|linreg.wppl|--kernel MH --samples 10000 --burn 1000"
    "gmm_mh|gmm.wppl|--kernel MH --samples 10000 --burn 1000"
    "dice_enumerate|dice.wppl|--method enumerate"
    "alarm_enumerate|alarm.wppl|--method enumerate"
)
HAVE_WEBPPL=0
if [ "${SKIP_WEBPPL:-0}" = 1 ]; then
    echo "## WebPPL: skipped (SKIP_WEBPPL=1)"
elif ! command -v npm >/dev/null 2>&1 || ! command -v node >/dev/null 2>&1; then
    echo "## WebPPL: skipped — npm/node not found (install Node.js 20 and npm to compare with WebPPL)"
else
    if [ -z "${WEBPPL_BIN:-}" ] && { [ ! -x "$WEBPPL" ] || ! grep -q "\"version\": \"$WEBPPL_VERSION\"" "$WEBPPL_DIR/node_modules/webppl/package.json" 2>/dev/null; }; then
        echo "## installing webppl@$WEBPPL_VERSION into bench/.webppl"
        mkdir -p "$WEBPPL_DIR"
        [ -f "$WEBPPL_DIR/package.json" ] || echo '{ "name": "tyche-bench-webppl", "private": true }' >"$WEBPPL_DIR/package.json"
        (cd "$WEBPPL_DIR" && npm install --no-audit --no-fund --loglevel=error "webppl@$WEBPPL_VERSION" >/dev/null)
    fi
    HAVE_WEBPPL=1
    echo "## WebPPL $WEBPPL_VERSION (node $(node --version)), in-process inference time of $REPS runs"
    for spec in "${WEBPPL_RUNS[@]}"; do
        IFS='|' read -r name file args <<<"$spec"
        : >"$OUT/$name.wall"
        : >"$OUT/$name.cpu"
        for ((i = 1; i <= REPS; i++)); do
            # shellcheck disable=SC2086
            if line=$(cd "$BENCH/webppl" && "$WEBPPL" "$file" --require fs -- $args 2>"$OUT/$name.err" | grep '^RESULT ' | head -n 1) && [ -n "$line" ]; then
                json="${line#RESULT }"
                echo "$json" | json_field inference_s >>"$OUT/$name.wall"
                echo "$json" | json_field inference_cpu_s >>"$OUT/$name.cpu"
                [ "$i" = 1 ] && echo "$json" >"$OUT/$name.answer"
            else
                echo "webppl $name run $i FAILED: $(tail -n 3 "$OUT/$name.err" | tr '\n' ' ')"
            fi
        done
        w=$(median <"$OUT/$name.wall")
        c=$(median <"$OUT/$name.cpu")
        echo "$w" >"$OUT/$name.wall.median"
        echo "$c" >"$OUT/$name.cpu.median"
        echo "webppl $name inference_s=$w cpu_s=$c answer=$(cat "$OUT/$name.answer" 2>/dev/null || echo none)"
    done
fi

# ---------------------------------------------------------------- Tyche
echo "## bench_infer (Tyche in-process, default thread pool)"
"$BIN/bench_infer" --reps "$REPS" | tee "$OUT/tyche.txt"
echo "## bench_infer --threads 1 (SMC rows on one thread, like WebPPL and the Rust filter)"
"$BIN/bench_infer" --reps "$REPS" --threads 1 --only lgss_smc,hmm3_smc,rustpf | tee "$OUT/tyche1.txt"
echo "## bench_infer --backend interp (the same runs on the interpreter: what native code buys)"
"$BIN/bench_infer" --reps "$REPS" --backend interp --only lgss_smc,hmm3_smc,linreg_mh,gmm_mh,dice | tee "$OUT/tyche_interp.txt"

# ---------------------------------------------------------------- ratios
echo "## ratios: Tyche time / WebPPL time (in-process; < 1 means Tyche is faster)"
for spec in "${WEBPPL_RUNS[@]}"; do
    IFS='|' read -r name _ _ <<<"$spec"
    if [ "$HAVE_WEBPPL" = 1 ]; then
        w=$(cat "$OUT/$name.wall.median")
        c=$(cat "$OUT/$name.cpu.median")
        echo "ratio $name $(ratio "$(lookup "$OUT/tyche.txt" time "$name")" "$w")"
        echo "ratio_cpu $name $(ratio "$(lookup "$OUT/tyche.txt" cpu "$name")" "$c")"
        case "$name" in
            *_smc_*)
                echo "ratio ${name}_1thread $(ratio "$(lookup "$OUT/tyche1.txt" time "$name")" "$w")"
                ;;
        esac
    else
        echo "ratio $name n/a (WebPPL not run)"
    fi
done
for n in 1k 10k; do
    echo "ratio lgss_smc_${n}_vs_rust_pf $(ratio "$(lookup "$OUT/tyche.txt" time "lgss_smc_$n")" "$(lookup "$OUT/tyche.txt" time "rust_pf_$n")")"
    echo "ratio_cpu lgss_smc_${n}_vs_rust_pf $(ratio "$(lookup "$OUT/tyche.txt" cpu "lgss_smc_$n")" "$(lookup "$OUT/tyche.txt" cpu "rust_pf_$n")")"
    echo "ratio lgss_smc_${n}_vs_rust_pf_1thread $(ratio "$(lookup "$OUT/tyche1.txt" time "lgss_smc_$n")" "$(lookup "$OUT/tyche1.txt" time "rust_pf_$n")")"
done
grep -E '^ratio(_cpu)? smc_T800_vs_T100' "$OUT/tyche.txt" || true
for name in lgss_smc_1k lgss_smc_10k hmm3_smc_1k hmm3_smc_10k linreg_mh gmm_mh dice_enumerate; do
    echo "ratio ${name}_interp_over_default $(ratio "$(lookup "$OUT/tyche_interp.txt" time "$name")" "$(lookup "$OUT/tyche.txt" time "$name")")"
done

echo "## targets (verdict on the in-process wall-time ratio; the CPU-time ratio beside it)"
target() { # label wall-ratio cpu-ratio limit
    awk -v l="$1" -v v="$2" -v c="$3" -v m="$4" 'BEGIN {
        if (v == "n/a" || v == "") { print "target " l " n/a"; exit }
        printf "target %s %s (wall %.4g, cpu %s; need <= %.4g)\n", l, (v + 0 <= m ? "met" : "MISSED"), v, c, m }'
}
both() { # name: "wall-ratio cpu-ratio" against WebPPL
    local w c
    w=$(ratio "$(lookup "$OUT/tyche.txt" time "$1")" "$(cat "$OUT/$1.wall.median")")
    c=$(ratio "$(lookup "$OUT/tyche.txt" cpu "$1")" "$(cat "$OUT/$1.cpu.median")")
    echo "$w $c"
}
if [ "$HAVE_WEBPPL" = 1 ]; then
    for name in lgss_smc_1k lgss_smc_10k hmm3_smc_1k hmm3_smc_10k; do
        read -r w c <<<"$(both "$name")"
        target "${name}_100x_faster_than_webppl" "$w" "$c" 0.01
    done
    for name in linreg_mh gmm_mh dice_enumerate alarm_enumerate; do
        read -r w c <<<"$(both "$name")"
        target "${name}_30x_faster_than_webppl" "$w" "$c" 0.0333
    done
fi
for n in 1k 10k; do
    w=$(ratio "$(lookup "$OUT/tyche.txt" time "lgss_smc_$n")" "$(lookup "$OUT/tyche.txt" time "rust_pf_$n")")
    c=$(ratio "$(lookup "$OUT/tyche.txt" cpu "lgss_smc_$n")" "$(lookup "$OUT/tyche.txt" cpu "rust_pf_$n")")
    target "lgss_smc_${n}_within_3x_of_rust_pf" "$w" "$c" 3
done
t800=$(awk '$1 == "ratio" && $2 == "smc_T800_vs_T100" { print $3 }' "$OUT/tyche.txt")
c800=$(awk '$1 == "ratio_cpu" && $2 == "smc_T800_vs_T100" { print $3 }' "$OUT/tyche.txt")
awk -v v="$t800" -v c="$c800" 'BEGIN { if (v == "") print "target smc_linear_in_T n/a"; else printf "target smc_linear_in_T %s (T800/T100: wall %.2f, cpu %s; linear is 8, allow <= 10)\n", (v + 0 <= 10 ? "met" : "MISSED"), v, c }'

# ---------------------------------------------------------------- bench_check
echo "## bench_check"
"$BIN/bench_check"
