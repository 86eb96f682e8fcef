#!/usr/bin/env bash
# What padding gains: requests of several lengths (32 to 64 tokens by
# default, taken in turn) to the same text classifier served twice by one
# daemon, once with
# `pad_value: 0` on its input and once without, so that only requests of one
# length can share a batch. The two copies alternate run by run; the report
# gives each run's throughput and latency, and the executions per inference
# that the daemon's ModelStatistics counted over all of a copy's runs.
set -euo pipefail

usage() {
  cat <<'EOF'
usage: bench/padding_bench.sh [BUILD_DIR] [--rounds N] [--duration-s S] [--concurrency C]
                              [--shapes 1,L1:1,L2:...]

  BUILD_DIR        where edgeserve, edgeserve-bench and edgeserve-cli were built (default: build)
  --rounds N       alternating rounds (default 3)
  --duration-s S   measured seconds per run, after 2 s of warm-up (default 8)
  --concurrency C  requests in flight (default 8)
  --shapes S       the request shapes taken in turn (default 1,32:1,40:1,48:1,56:1,64)
EOF
}

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
BUILD=build
ROUNDS=3
DURATION=8
CONCURRENCY=8
SHAPES=1,32:1,40:1,48:1,56:1,64
while [[ $# -gt 0 ]]; do
  case "$1" in
    --rounds) ROUNDS="$2"; shift 2 ;;
    --duration-s) DURATION="$2"; shift 2 ;;
    --concurrency) CONCURRENCY="$2"; shift 2 ;;
    --shapes) SHAPES="$2"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    -*) echo "padding_bench.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
    *) BUILD="$1"; shift ;;
  esac
done

# shellcheck source=bench/common.sh
source "$ROOT/bench/common.sh"
EDGESERVE=""
find_tools padding_bench.sh "$BUILD"
SOURCE=bench/models/text_classifier
ensure_bench_model padding_bench.sh "$SOURCE"

WORK="$(mktemp -d)"
DAEMON_PID=""
cleanup() {
  [[ -n "$DAEMON_PID" ]] && kill -TERM "$DAEMON_PID" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

for copy in padded unpadded; do
  mkdir -p "$WORK/models/$copy/1"
  ln -s "$ROOT/$SOURCE/1/model.pt" "$WORK/models/$copy/1/model.pt"
  sed '/^#/d' "$SOURCE/config.yaml" >"$WORK/models/$copy/config.yaml"
done
sed -i 's/shape: \[-1\]}/shape: [-1], pad_value: 0}/' "$WORK/models/padded/config.yaml"
grep -q 'pad_value: 0' "$WORK/models/padded/config.yaml" || {
  echo "padding_bench.sh: could not give $SOURCE/config.yaml's input a pad_value" >&2; exit 1; }

ADDRESS="127.0.0.1:$(free_port)"
"$EDGESERVE" --model-repository "$WORK/models" --address "$ADDRESS" >"$WORK/edgeserve.log" 2>&1 &
DAEMON_PID=$!
wait_until_ready padding_bench.sh "$ADDRESS" "$DAEMON_PID" "$WORK/edgeserve.log"

echo "padding: text_classifier, shapes $SHAPES in turn, concurrency $CONCURRENCY, $ROUNDS rounds of ${DURATION} s"
echo "load average before: $(cut -d' ' -f1 /proc/loadavg)"
for ((round = 1; round <= ROUNDS; round++)); do
  for copy in padded unpadded; do
    line="$("$BENCH" grpc --url "$ADDRESS" --model "$copy" --concurrency "$CONCURRENCY" --shape "$SHAPES" \
             --duration-s "$DURATION" --warmup-s 2 --json)"
    jq -r --arg copy "$copy" --argjson round "$round" \
      '"round \($round) \($copy): \(.inferences_per_s | round) inferences/s, p50 \(.p50_us | round) us, p99 \(.p99_us | round) us, errors \(.errors)"' \
      <<<"$line"
  done
done
for copy in padded unpadded; do
  "$CLI" --url "$ADDRESS" stats "$copy" | awk -v copy="$copy" '
    $1 == "inference_count" { inferences = $2 }
    $1 == "execution_count" { executions = $2 }
    END { printf "%s: %d inferences in %d executions, %.2f executions per inference\n",
                 copy, inferences, executions, executions / inferences }'
done
stop "$DAEMON_PID" 35
DAEMON_PID=""
