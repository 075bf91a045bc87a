#!/usr/bin/env bash
# Builds the fuzz package (Fuzz/) and runs each libFuzzer target for a while
# on a copy of its committed corpus.
#
#   Scripts/fuzz.sh [seconds-per-target] [target...]    (default 30 s, every target)
#   FUZZ_CONFIGURATION=debug Scripts/fuzz.sh 5           (what CI runs)
#   Scripts/fuzz.sh --list
#
# Targets are the executables in Fuzz/Sources/fuzz-*. The committed corpus
# (Fuzz/Corpus/<target>) is copied to a temporary working corpus, so runs
# never dirty the tree; FUZZ_WORK=<dir> keeps the working corpora there
# instead (<dir>/<target>), to go on from one run to the next. A crash, leak,
# timeout or out-of-memory input stops its target and is kept in
# .build-fuzz/artifacts/<target>/ (FUZZ_ARTIFACTS=<dir> to change); the script
# goes on with the next target and exits non-zero at the end. FUZZ_RUNS=<n>
# stops each target after n inputs instead of (or before) the time is up.
# FUZZ_SKIP_BUILD=1 uses the binaries already built.
#
# Everything runs under `nice -n 15`: the machine is shared.
set -euo pipefail
cd "$(dirname "$0")/.."

scratch=.build-fuzz
all_targets=$(cd Fuzz/Sources && ls -d fuzz-* | sort)
if [ "${1:-}" = "--list" ]; then
  echo "$all_targets"
  exit 0
fi
seconds=${1:-30}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || mapfile -t targets <<<"$all_targets"
for target in "${targets[@]}"; do
  grep -qx "$target" <<<"$all_targets" || { echo "fuzz.sh: no target $target (see --list)" >&2; exit 2; }
done

# Runs a command under `nice -n 15` and keeps its descendants there too:
# swift-build starts the compilers at the default priority whatever its own.
niced() {
  nice -n 15 "$@" &
  local root=$!
  while kill -0 "$root" 2>/dev/null; do
    local pids
    pids=$(ps -eo pid=,ppid=,ni= | awk -v root="$root" '
      { parent[$1] = $2; nice[$1] = $3 }
      END { for (p in parent) { q = p; while ((q in parent) && q != root && q > 1) q = parent[q]
            if (q == root && nice[p] < 15) print p } }')
    [ -z "$pids" ] || renice -n 15 -p $pids > /dev/null 2>&1 || true
    sleep 1
  done
  wait "$root"
}

# Release by default: the parsers run several times faster optimised, which
# the long runs need. FUZZ_CONFIGURATION=debug builds in a fraction of the
# time (no optimisation of the whole graph), which is what a few seconds per
# target in CI needs. The sanitizer and coverage flags go to every Swift
# module of the graph; -parse-as-library because the targets have no
# top-level code (see Fuzz/Package.swift).
configuration=${FUZZ_CONFIGURATION:-release}
if [ "${FUZZ_SKIP_BUILD:-}" != 1 ]; then
  started=$(date +%s)
  niced swift build --package-path Fuzz --scratch-path "$scratch" -c "$configuration" \
    -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library
  echo "fuzz.sh: $configuration build took $(($(date +%s) - started)) s"
fi
bin=$scratch/$configuration

artifacts=$(realpath -m "${FUZZ_ARTIFACTS:-$scratch/artifacts}")
if [ -n "${FUZZ_WORK:-}" ]; then
  work=$(realpath -m "$FUZZ_WORK")
  mkdir -p "$work"
else
  work=$(mktemp -d /tmp/crio-fuzz-corpus.XXXXXX)
fi

# TOMLKit 0.6.0 never frees the C strings and arrays its accessors return
# (nodeAsString's strdup, tableGetKeys' malloc): a leak of the dependency,
# not of the parsers (the daemon reads its TOML files once, at start),
# reported by LeakSanitizer on every input that has a string. Suppressed by
# source path, so leaks anywhere else still count. libFuzzer's per-input
# leak check would still stop the world and symbolize on every such input
# (6 inputs a second instead of thousands), so the TOML targets check for
# leaks once, at exit, instead.
export LSAN_OPTIONS="suppressions=$PWD/Fuzz/lsan.supp:print_suppressions=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}"

# A crash is reported by ASan and libFuzzer; the Swift runtime's own
# backtracer would only slow it down (and trip ASan reading memory).
export SWIFT_BACKTRACE=enable=no

failed=()
summary=$(mktemp /tmp/crio-fuzz-summary.XXXXXX)
trap 'rm -f "$summary"; [ -n "${FUZZ_WORK:-}" ] || rm -rf "$work"' EXIT
printf '%-18s %12s %10s %8s  %s\n' target executions "exec/s" corpus result > "$summary"
for target in "${targets[@]}"; do
  corpus=$work/$target
  mkdir -p "$corpus" "$artifacts/$target"
  cp -n Fuzz/Corpus/"$target"/* "$corpus"/ 2>/dev/null || true
  options=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
    -artifact_prefix="$artifacts/$target/")
  [ -z "${FUZZ_RUNS:-}" ] || options+=(-runs="$FUZZ_RUNS")
  case $target in fuzz-config | fuzz-registries) options+=(-detect_leaks=0) ;; esac
  [ ! -f Fuzz/Dictionaries/"$target".dict ] || options+=(-dict=Fuzz/Dictionaries/"$target".dict)
  log=$artifacts/$target/last-run.log
  echo "fuzz.sh: $target for ${seconds} s"
  status=0
  nice -n 15 "$bin/$target" "${options[@]}" "$corpus" > "$log" 2>&1 || status=$?
  executions=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  size=$(find "$corpus" -type f | wc -l)
  if [ "$status" = 0 ]; then
    result=ok
  else
    result="FAILED (exit $status): $(grep -m1 -E '^==[0-9]+==ERROR|^SUMMARY|deadly signal|Fatal error|-- timeout|out-of-memory' "$log" || echo "see $log")"
    grep -h 'Test unit written to' "$log" | sed 's/^/  /' || true
    failed+=("$target")
  fi
  printf '%-18s %12s %10s %8s  %s\n' "$target" "${executions:-?}" "${speed:-?}" "$size" "$result" >> "$summary"
done

cat "$summary"
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz.sh: failed: ${failed[*]} (inputs and logs in $artifacts/<target>/)" >&2
  exit 1
fi
