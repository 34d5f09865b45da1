#!/usr/bin/env bash
# Writes link/hot-symbols.txt: the functions a `lexflow check` runs, for the release link to
# place side by side (build.rs passes the file to the linker; docs/performance.md, step 11).
#
# Why: a process's resident memory counts every page of its program that it has touched,
# and the kernel maps program text 64 KiB or more at a time around each first touch. A 10k
# flow check runs 1.4 MiB of the program's 4.3 MiB of code, but scattered over it that made
# 2.8 MiB resident. Placed together, those functions take about their own size.
#
# The list is the functions that valgrind's callgrind saw run, over the checks below on
# generated 10k-flow cities (JSON, YAML, one and several files, report to a file and to
# stdout, every format): first those of a JSON check, then those a YAML check adds, then
# those of the other streamed reports (SARIF, human, GitHub), then the grouped reports'.
# Functions that only run when threads contend for a lock or steal work (never under
# valgrind, which runs one thread at a time) are added by name.
#
# Symbol names carry hashes that change with the compiler, the dependencies and the
# release profile: run this again after changing any of them (a name that no longer
# exists is skipped by the linker, so a stale list costs memory, never correctness).
#
# Then, where `perf` can record page faults, the release program is linked with that list
# and run natively: a function whose first run faults in a page outside the list (one the
# valgrind runs missed, such as the program's entry) joins the list, and the program is
# linked again.
#
# Needs valgrind and python3 (perf optional). Usage: scripts/hot-symbols.sh
#
# Most names carry hashes or numbers that change with any change to lexflow's code, not
# only to the functions listed: after one change to the JUnit report, 382 of 1,470 names
# were left, and a 10k JSON check's text resident went from 1.5 back to 2.9 MiB (its peak
# from 12.3 to 13.8 MiB). So the list is written again with every change to the code, and
# `scripts/hot-symbols.sh --check` (run by CI) fails when fewer than 90% of its names are
# in the release program.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${1:-}" = "--check" ]; then
  cargo build --release --locked
  command -v nm >/dev/null || { echo "hot-symbols: nm is missing; the list is not checked"; exit 0; }
  total=$(grep -c . link/hot-symbols.txt)
  found=$(nm target/release/lexflow | awk '{print $NF}' | sort -u \
    | comm -12 - <(sort -u link/hot-symbols.txt) | wc -l)
  echo "hot-symbols: $found of $total names of link/hot-symbols.txt are in the release program"
  if [ $((found * 10)) -lt $((total * 9)) ]; then
    echo "hot-symbols: the list is stale: run scripts/hot-symbols.sh and commit link/hot-symbols.txt" >&2
    exit 1
  fi
  exit 0
fi

command -v valgrind >/dev/null || { echo "hot-symbols: valgrind is needed" >&2; exit 1; }
cargo build --release --locked
bin=target/release/lexflow
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$bin" gen --flows 10000 --format json --out "$work/json" >/dev/null
"$bin" gen --flows 10000 --format yaml --out "$work/yaml" >/dev/null
"$bin" gen --flows 10000 --format json --files 3 --out "$work/json3" >/dev/null

runs=0
run() { # group name, then the check's arguments
  local group=$1 status=0
  shift
  runs=$((runs + 1))
  valgrind --tool=callgrind --demangle=no --callgrind-out-file="$work/$group.$runs.cg" \
    "$bin" "$@" >/dev/null 2>&1 || status=$?
  # A check exits 1 when it reports findings; anything else is a failed run.
  if [ "$status" -gt 1 ]; then
    echo "hot-symbols: \`lexflow $*\` failed under valgrind (exit $status)" >&2
    exit 1
  fi
}

run 1json check --format json --output "$work/out.json" "$work/json"
run 1json check --format json "$work/json"
run 1json check --format json "$work/json3"
run 2yaml check --format json --output "$work/out.json" "$work/yaml"
run 2yaml check --format json "$work/yaml"
for format in sarif human github; do
  run "3streamed-$format" check --format "$format" "$work/json"
  run "3streamed-$format" check --format "$format" "$work/yaml"
done
for format in markdown html junit; do
  run "4grouped-$format" check --format "$format" "$work/json"
done

python3 - "$bin" "$work" > "$work/hot-symbols.txt" <<'EOF'
import glob, re, subprocess, sys

binary, work = sys.argv[1], sys.argv[2]
# The program's entry and start-up run before callgrind names a function of ours.
entry = {"_start", "_init", "main"}

def executed(path):
    """Names of the program's own functions that ran, in a callgrind output file."""
    objects, names, current, ran = {}, {}, None, set()
    for line in open(path, errors="replace"):
        m = re.match(r"(c?ob)=\((\d+)\)(?: (.*))?$", line.rstrip("\n"))
        if m:
            if m.group(3):
                objects[m.group(2)] = m.group(3)
            if m.group(1) == "ob":
                current = objects.get(m.group(2), "")
            continue
        m = re.match(r"(c?fn)=\((\d+)\)(?: (.*))?$", line.rstrip("\n"))
        if m:
            if m.group(3):
                names[m.group(2)] = m.group(3)
            if m.group(1) == "fn" and current.endswith("/lexflow"):
                # callgrind marks recursion levels with 'N
                ran.add(names.get(m.group(2), "").split("'")[0])
    return ran

defined = set()
for line in subprocess.run(["nm", "--defined-only", binary], capture_output=True,
                           text=True, check=True).stdout.splitlines():
    parts = line.split()
    if len(parts) == 3 and parts[1] in "tTwW":
        defined.add(parts[2])

# Run only when threads meet (a contended lock, a stolen job, a parked worker).
contended = re.compile(r"rayon_core|lock_contended|futex|park|crossbeam_epoch|crossbeam_deque")

seen, order = set(), []
for group in ("1json", "2yaml"):
    ran = set()
    for path in sorted(glob.glob(f"{work}/{group}.*.cg")):
        ran |= executed(path)
    if group == "1json":
        ran |= {name for name in defined if contended.search(name)} | entry
    for name in sorted(ran & defined - seen):
        seen.add(name)
        order.append(name)
# The other reports' own functions, by the reports that run them, so that each report's
# code lies in as few stretches as it can: first what streamed and grouped reports share,
# then the grouped reports' (the Markdown report's in one stretch, the HTML report's in
# two), then the streamed ones'. Sorted by name only, a Markdown check touched pages of the
# streamed reports' code for the few functions it shares with them.
formats = {}
for path in glob.glob(f"{work}/[34]*.*.cg"):
    group = path.rsplit("/", 1)[1].split(".")[0]
    for name in executed(path) & defined - seen:
        formats.setdefault(name, set()).add(group.split("-", 1)[1])
grouped_order = [("markdown", "html", "junit"), ("markdown", "html"), ("markdown", "junit"),
                 ("markdown",), ("html",), ("html", "junit"), ("junit",)]
def place(name):
    used = formats[name]
    grouped = tuple(f for f in ("markdown", "html", "junit") if f in used)
    streamed = tuple(f for f in ("sarif", "human", "github") if f in used)
    if grouped and streamed:
        return (0, 0, streamed, name)
    if grouped:
        return (1, grouped_order.index(grouped), (), name)
    return (2, 0, streamed, name)
order += sorted(formats, key=place)
print("\n".join(order))
EOF
# Replaced only once the list is whole.
mv "$work/hot-symbols.txt" link/hot-symbols.txt
echo "link/hot-symbols.txt: $(wc -l < link/hot-symbols.txt) functions from callgrind"

if ! perf record -q -e page-faults -c 1 -d -o "$work/probe.data" true >/dev/null 2>&1; then
  echo "perf cannot record page faults here: the list stands as callgrind made it"
  exit 0
fi
cargo build --release --locked
faults() { # the check's arguments
  perf record -q -e page-faults -c 1 -d -o "$work/faults.data" "$bin" "$@" >/dev/null 2>&1 || true
  perf script -i "$work/faults.data" --no-demangle -F addr,sym 2>/dev/null
}
for round in 1 2 3; do
  faults check --format json --output "$work/out.json" "$work/json"
  faults check --format json "$work/yaml"
done > "$work/faults.txt"
python3 - "$bin" "$work/faults.txt" <<'EOF'
import bisect, subprocess, sys

binary, faults = sys.argv[1], sys.argv[2]
symbols = []
for line in subprocess.run(["nm", "-n", "--defined-only", binary], capture_output=True,
                           text=True, check=True).stdout.splitlines():
    parts = line.split()
    if len(parts) == 3 and parts[1] in "tTwW":
        symbols.append((int(parts[0], 16), parts[2]))
starts = [address for address, _ in symbols]
listed = open("link/hot-symbols.txt").read().split()
known = set(listed)
start = next(address for address, name in symbols if name == "_start")
text_end = symbols[-1][0]
base, missed = None, []
for line in open(faults):
    parts = line.split()
    if len(parts) < 2:
        continue
    if parts[1] == "_start":
        base = int(parts[0], 16) - start  # where the program was loaded
    if base is None:
        continue
    offset = int(parts[0], 16) - base
    i = bisect.bisect_right(starts, offset) - 1
    if 0 <= i and starts[0] <= offset <= text_end:
        name = symbols[i][1]
        if name not in known:
            known.add(name)
            missed.append(name)
# First: most of them run in every check.
open("link/hot-symbols.txt", "w").write("\n".join(missed + listed) + "\n")
print(f"{len(missed)} functions added from page faults")
EOF
