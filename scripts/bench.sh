#!/usr/bin/env bash
# Whole-process figures for docs/performance.md: `lexflow check` (all bundled packs) against
# loading the same manifests alone (`lexflow load`, the same loader), median of RUNS runs,
# with peak memory (max RSS from /usr/bin/time -v) and the manifests' size on disk.
#
#   scripts/bench.sh                      # 10k and 100k flows, YAML and JSON, 5 runs
#   SIZES="10000 100000 1000000" RUNS=3 scripts/bench.sh
#   POLICY=../laws/policies scripts/bench.sh    # add rule files (--policy) to the check
#
# Stage timings (load, compile, graph, evaluation, regorus side by side): cargo bench --bench scale
set -euo pipefail
cd "$(dirname "$0")/.."

SIZES=${SIZES:-"10000 100000"}
FORMATS=${FORMATS:-"yaml json"}
RUNS=${RUNS:-5}
TARGET=${CARGO_TARGET_DIR:-target}
DATA=${DATA:-$TARGET/bench-data}
POLICY=${POLICY:-}
AS_OF=2026-06-01

cargo build --release --quiet
BIN=$TARGET/release/lexflow
mkdir -p "$DATA"
policy_args=()
if [ -n "$POLICY" ]; then policy_args=(--policy "$POLICY"); fi

median() { sort -g | awk '{v[NR]=$1} END {if (NR%2) print v[(NR+1)/2]; else print (v[NR/2]+v[NR/2+1])/2}'; }

# measure LABEL CMD... → "median_seconds median_peak_MiB median_cpu_seconds" (cpu = user + sys:
# on a machine shared with other work, wall time swings with the load; CPU time much less)
measure() {
  shift # the label
  local times=() mems=() cpus=() i out tmp
  tmp=$(mktemp)
  for ((i = 0; i < RUNS; i++)); do
    /usr/bin/time -o "$tmp" -f '%e %M %U %S' "$@" >/dev/null 2>/dev/null || true
    out=$(tail -1 "$tmp")
    read -r e m u s <<<"$out"
    times+=("$e")
    mems+=("$m")
    cpus+=("$(awk -v u="$u" -v s="$s" 'BEGIN {print u + s}')")
  done
  rm -f "$tmp"
  local t m c
  t=$(printf '%s\n' "${times[@]}" | median)
  m=$(printf '%s\n' "${mems[@]}" | median)
  c=$(printf '%s\n' "${cpus[@]}" | median)
  echo "$t $(awk -v k="$m" 'BEGIN {printf "%.0f", k/1024}') $c"
}

printf '| flows | format | files | MiB on disk | load s | check s | check/load | load cpu s | check cpu s | load peak MiB | check peak MiB | peak/size |\n'
printf '| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n'
for n in $SIZES; do
  for fmt in $FORMATS; do
    dir=$DATA/$fmt-$n
    files=$(( (n + 199999) / 200000 ))
    if [ ! -d "$dir" ]; then
      "$BIN" gen --flows "$n" --seed 1 --files "$files" --format "$fmt" --out "$dir" >"$DATA/$fmt-$n.json"
    fi
    bytes=$(du -sb "$dir" | cut -f1)
    mib=$(awk -v b="$bytes" 'BEGIN {printf "%.1f", b/1048576}')
    read -r load_s load_mem load_cpu < <(measure load "$BIN" load "$dir")
    read -r check_s check_mem check_cpu < <(measure check "$BIN" check "$dir" "${policy_args[@]}" --as-of $AS_OF --format json --output /dev/null)
    ratio=$(awk -v a="$check_s" -v b="$load_s" 'BEGIN {printf "%.2f", (b > 0 ? a/b : 0)}')
    mem_ratio=$(awk -v m="$check_mem" -v s="$mib" 'BEGIN {printf "%.1f", (s > 0 ? m/s : 0)}')
    printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$n" "$fmt" "$files" "$mib" "$load_s" "$check_s" "$ratio" "$load_cpu" "$check_cpu" "$load_mem" "$check_mem" "$mem_ratio"
  done
done

# Stage timings and the regorus side by side (divan): STAGES=0 to skip.
if [ "${STAGES:-1}" = 1 ]; then
  cargo bench --bench scale
fi
