#!/usr/bin/env bash
# Measures edgeserve against its baselines, alternating them round by round
# so that every ratio compares runs made minutes apart on the same box:
#   echo-server        the bare gRPC floor     vs  model "identity" on edgeserve
#   torch-loop         LibTorch called inline  vs  model "classifier" on edgeserve
#   inline-server      a server that runs the classifier's forward on gRPC's
#                      own thread, the least any server can add to the loop
#   mlp-loop, mlp-int8-loop  the loop, for the perceptron in fp32 and its int8
#                      (dynamically quantised) twin, "mlp" and "mlp_int8"
# Each round starts `edgeserve-bench echo-server`, loads it at concurrency 16
# and, at concurrency 1, with the classifier's 602 KB request answered by its
# 4 KB of logits (the round trip on bare gRPC), stops it; starts
# `inline-server` on the classifier's model file and loads it at concurrency
# 1, stops it; starts the daemon, loads identity at concurrency 16 and
# classifier at concurrency 1, stops it; then runs the classifier's model file
# in the LibTorch loop. Every LibTorch side uses the daemon's intra-op thread
# count. The report gives the median over rounds of each throughput and of
# each round's ratio, and the classifier's bound (the loop's forward and the
# bare round trip in series), on stdout and in bench/results/latest.json. All
# traffic stays on 127.0.0.1.
set -euo pipefail

usage() {
  cat <<'EOF'
usage: bench/run_benchmarks.sh [BUILD_DIR] [--quick] [--rounds N] [--duration-s S]
                               [--edgeserve BIN] [--config FILE] [--model-repository DIR]

  BUILD_DIR           where edgeserve, edgeserve-bench (and edgeserve-cli) were built
                      (default: build)
  --quick             3 rounds of 2 s runs, about a minute (default: 3 rounds of 10 s,
                      under five minutes)
  --rounds N          rounds to alternate (default 3)
  --duration-s S      measured seconds per run (warm-up is 2 s, 1 s with --quick)
  --edgeserve BIN     the daemon (default: BUILD_DIR/edgeserve)
  --config FILE       the daemon's config (default: configs/edgeserve.yaml)
  --model-repository DIR  passed to the daemon; the torch loop reads
                      DIR/classifier/1/model.pt (default: the config's, models)
Run from anywhere; paths are taken relative to the repository root.
EOF
}

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

BUILD=build
EDGESERVE=""
CONFIG=configs/edgeserve.yaml
REPOSITORY=""
ROUNDS=3
DURATION=10
WARMUP=2
while [[ $# -gt 0 ]]; do
  case "$1" in
    --quick) DURATION=2; WARMUP=1; shift ;;
    --rounds) ROUNDS="$2"; shift 2 ;;
    --duration-s) DURATION="$2"; shift 2 ;;
    --edgeserve) EDGESERVE="$2"; shift 2 ;;
    --config) CONFIG="$2"; shift 2 ;;
    --model-repository) REPOSITORY="$2"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    -*) echo "run_benchmarks.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
    *) BUILD="$1"; shift ;;
  esac
done

# shellcheck source=bench/common.sh
source "$ROOT/bench/common.sh"
BENCH="$(find_binary "$BUILD/edgeserve-bench" "$BUILD/bench/edgeserve-bench")" || {
  echo "run_benchmarks.sh: no edgeserve-bench under $BUILD; build it first" >&2; exit 1; }
EDGESERVE="${EDGESERVE:-$BUILD/edgeserve}"
[[ -x "$EDGESERVE" ]] || { echo "run_benchmarks.sh: no daemon at $EDGESERVE" >&2; exit 1; }
[[ -f "$CONFIG" ]] || { echo "run_benchmarks.sh: no config at $CONFIG" >&2; exit 1; }
CLI="$(find_binary "$BUILD/edgeserve-cli" "$BUILD/src/cli/edgeserve-cli" || true)"
MODEL_FILE="${REPOSITORY:-models}/classifier/1/model.pt"
MLP_FILE="${REPOSITORY:-models}/mlp/1/model.pt"
MLP_INT8_FILE="${REPOSITORY:-models}/mlp_int8/1/model.pt"
for file in "$MODEL_FILE" "$MLP_FILE" "$MLP_INT8_FILE"; do
  [[ -f "$file" ]] || {
    echo "run_benchmarks.sh: no $file; make it with /usr/bin/python3 models/make_examples.py" >&2; exit 1; }
done

# The daemon's LibTorch threads per instance (threads: intra_op:, 1 when the
# config leaves it out), where 0 means every core; the torch loop must use as
# many to be a fair baseline.
INTRA_OP="$(awk '/^threads:/ { inside = 1; next } /^[^[:space:]#]/ { inside = 0 }
                 inside && $1 == "intra_op:" { print $2; exit }' "$CONFIG")"
INTRA_OP="${INTRA_OP:-1}"
if [[ "$INTRA_OP" == 0 ]]; then INTRA_OP="$(nproc)"; fi

# Other work on the box skews every number here (LibTorch's threads suffer
# most); say so rather than hide it, and keep the figure with the results.
LOAD_BEFORE="$(cut -d' ' -f1 /proc/loadavg)"
if awk -v load="$LOAD_BEFORE" 'BEGIN { exit !(load > 0.5) }'; then
  echo "run_benchmarks.sh: warning: load average $LOAD_BEFORE before starting; other work on this box skews the results" >&2
fi

WORK="$(mktemp -d)"
ECHO_PID=""
INLINE_PID=""
DAEMON_PID=""
DAEMON_ALLOCATOR=""
cleanup() {
  [[ -n "$ECHO_PID" ]] && kill -TERM "$ECHO_PID" 2>/dev/null || true
  [[ -n "$INLINE_PID" ]] && kill -TERM "$INLINE_PID" 2>/dev/null || true
  [[ -n "$DAEMON_PID" ]] && kill -TERM "$DAEMON_PID" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

# Runs one measurement and appends its JSON line, tagged with `name` and the
# round, to results.jsonl. Exit status 3 (some requests failed) is a result;
# anything else is a broken run and stops the script.
RUN_LIMIT=$((DURATION + WARMUP + 60))
measure() {
  local name="$1"; shift
  local line status=0
  line="$(timeout "$RUN_LIMIT" "$BENCH" "$@" --duration-s "$DURATION" --warmup-s "$WARMUP" --json)" || status=$?
  if [[ $status -ne 0 && $status -ne 3 ]]; then
    echo "run_benchmarks.sh: '$name' failed (exit $status): $BENCH $*" >&2
    exit 1
  fi
  jq -c --arg name "$name" --argjson round "$ROUND" '{name: $name, round: $round} + .' <<<"$line" \
    >>"$WORK/results.jsonl"
  jq -r --arg name "$name" '"  \($name): \(if .batch == 1 then "\(.inferences_per_s | round) inferences/s" else "\(.requests_per_s | round) requests/s of \(.batch) rows" end), p50 \(.p50_us | round) us, p99 \(.p99_us | round) us, errors \(.errors)"' \
    <<<"$line"
}

# The classifier's request and answer: FP32 [1,3,224,224] in, 150,528 values
# (sent to the echo server as [9408,16], its identity shape), and FP32 [1,1000]
# out. The echo server cuts its answer to the latter; the identity's 64 bytes
# stay whole.
CLASSIFIER_AS_ECHO_SHAPE=9408,16
CLASSIFIER_REPLY_BYTES=4000

# Starts one of edgeserve-bench's servers (`echo-server` or `inline-server`,
# with their flags) on a free loopback port; sets SERVER_PID and
# SERVER_ADDRESS from the "listening on" line it prints.
start_bench_server() {
  local out="$WORK/$1.out"
  "$BENCH" "$@" --listen 127.0.0.1:0 >"$out" 2>&1 &
  SERVER_PID=$!
  local tries=0
  SERVER_ADDRESS=""
  while [[ -z "$SERVER_ADDRESS" ]] && (( tries < 300 )); do
    SERVER_ADDRESS="$(sed -n 's/^listening on //p' "$out")"
    if [[ -z "$SERVER_ADDRESS" ]]; then
      kill -0 "$SERVER_PID" 2>/dev/null || break
      sleep 0.1; tries=$((tries + 1))
    fi
  done
  [[ -n "$SERVER_ADDRESS" ]] || { echo "run_benchmarks.sh: $1 did not start:" >&2; cat "$out" >&2; exit 1; }
}

run_echo_round() {
  start_bench_server echo-server --max-reply-bytes "$CLASSIFIER_REPLY_BYTES"
  ECHO_PID="$SERVER_PID"
  measure echo grpc --url "$SERVER_ADDRESS" --model identity --concurrency 16
  measure echo-classifier-size grpc --url "$SERVER_ADDRESS" --model identity --concurrency 1 \
    --shape "$CLASSIFIER_AS_ECHO_SHAPE"
  stop "$ECHO_PID" 5
  ECHO_PID=""
}

# The classifier on the hand-written server that runs each forward inline on
# gRPC's thread: what a server without the daemon's queue and workers reaches.
run_inline_round() {
  start_bench_server inline-server --model-file "$MODEL_FILE" --shape 1,3,224,224 --threads "$INTRA_OP" \
    --optimize auto
  INLINE_PID="$SERVER_PID"
  measure inline-classifier grpc --url "$SERVER_ADDRESS" --model classifier --concurrency 1 --batch 1 \
    --shape 1,3,224,224
  stop "$INLINE_PID" 5
  INLINE_PID=""
}

run_daemon_round() {
  local port address
  port="$(free_port)"
  address="127.0.0.1:$port"
  local args=(--config "$CONFIG" --address "$address")
  [[ -n "$REPOSITORY" ]] && args+=(--model-repository "$REPOSITORY")
  "$EDGESERVE" "${args[@]}" >"$WORK/edgeserve.log" 2>&1 &
  DAEMON_PID=$!
  wait_until_ready run_benchmarks.sh "$address" "$DAEMON_PID" "$WORK/edgeserve.log"
  DAEMON_ALLOCATOR="$(sed -n 's/.*memory allocator \([^)]*\)).*/\1/p' "$WORK/edgeserve.log" | head -n 1)"
  measure identity grpc --url "$address" --model identity --concurrency 16
  measure classifier grpc --url "$address" --model classifier --concurrency 1 --batch 1 --shape 1,3,224,224
  measure mlp grpc --url "$address" --model mlp --concurrency 1 --batch 1
  measure mlp-int8 grpc --url "$address" --model mlp_int8 --concurrency 1 --batch 1
  stop "$DAEMON_PID" 35
  DAEMON_PID=""
}

echo "edgeserve benchmarks: $ROUNDS rounds, ${DURATION} s per run after ${WARMUP} s warm-up, torch threads $INTRA_OP"
for ((ROUND = 1; ROUND <= ROUNDS; ROUND++)); do
  echo "round $ROUND"
  run_echo_round
  run_inline_round
  run_daemon_round
  measure torch-loop torch-loop --model-file "$MODEL_FILE" --shape 1,3,224,224 --threads "$INTRA_OP" --optimize auto
  measure mlp-loop torch-loop --model-file "$MLP_FILE" --shape 1,64 --threads "$INTRA_OP" --optimize auto
  measure mlp-int8-loop torch-loop --model-file "$MLP_INT8_FILE" --shape 1,64 --threads "$INTRA_OP" --optimize auto
done

mkdir -p bench/results
jq -s \
  --arg date "$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
  --arg commit "$(git rev-parse --short HEAD 2>/dev/null || echo none)" \
  --arg cpu "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)" \
  --argjson cores "$(nproc)" --argjson load_before "$LOAD_BEFORE" \
  --argjson rounds "$ROUNDS" --argjson duration "$DURATION" --argjson warmup "$WARMUP" \
  --argjson threads "$INTRA_OP" --arg daemon_allocator "$DAEMON_ALLOCATOR" '
  def median: sort | if length == 0 then null
                     elif length % 2 == 1 then .[length / 2 | floor]
                     else (.[length / 2 - 1] + .[length / 2]) / 2 end;
  def of($name): map(select(.name == $name));
  def summary($name): of($name) | {
      inferences_per_s: map(.inferences_per_s) | median,
      p50_us: map(.p50_us) | median,
      p99_us: map(.p99_us) | median,
      errors: map(.errors) | add};
  def ratio($a; $b): [ group_by(.round)[]
      | (map(select(.name == $a))[0].inferences_per_s) as $x
      | (map(select(.name == $b))[0].inferences_per_s) as $y
      | select($x != null and $y != null and $y > 0) | $x / $y ] | median
      | if . == null then null else . * 1000 | round / 1000 end;
  # The most a server could serve the classifier at concurrency 1, per round:
  # the forward of the loop and the bare gRPC round trip of its request and
  # answer, one after the other (neither can start before the other ends).
  def classifier_bound_rounds: [ group_by(.round)[]
      | (map(select(.name == "torch-loop"))[0].requests_per_s) as $loop
      | (map(select(.name == "echo-classifier-size"))[0].requests_per_s) as $trip
      | (map(select(.name == "classifier"))[0].requests_per_s) as $served
      | select($loop != null and $trip != null and $loop > 0 and $trip > 0)
      | (1 / (1 / $loop + 1 / $trip)) as $bound
      | {bound: $bound, bound_over_loop: ($bound / $loop),
         classifier_over_bound: (if $served == null then null else $served / $bound end)} ];
  def rounded_median: map(select(. != null)) | median | if . == null then null else . * 1000 | round / 1000 end;
  {
    date: $date, commit: $commit, host: {cpu: $cpu, cores: $cores, load_average_before: $load_before},
    method: {rounds: $rounds, duration_s: $duration, warmup_s: $warmup,
             echo_and_identity: "grpc closed loop, concurrency 16, FP32 [1,16]",
             classifier: "grpc closed loop, concurrency 1, FP32 [1,3,224,224]",
             echo_classifier_size: "grpc closed loop against the echo server, concurrency 1, FP32 [9408,16] (602,112 bytes, the classifier request) answered with its first 4,000 bytes (the classifier answer)",
             inline_classifier: "the classifier on edgeserve-bench inline-server (the forward run on gRPC\u0027s thread, --optimize auto, threads \($threads)), grpc closed loop, concurrency 1",
             classifier_bound: "per round, 1 / (1 / torch-loop + 1 / echo-classifier-size requests per s): the loop forward and the bare round trip in series",
             torch_loop: "same model file and input, --optimize auto, threads \($threads)",
             mlp: "grpc closed loop, concurrency 1, FP32 [1,64], fp32 and int8 (dynamic quantisation)",
             statistic: "median over rounds; ratios are medians of per-round ratios",
             memory_allocator: {daemon: $daemon_allocator,
                                torch_loop: (map(select(.name == "torch-loop"))[0].details["memory allocator"])}},
    summary: {echo: summary("echo"),
              "echo-classifier-size": ((of("echo-classifier-size") | map(.requests_per_s) | median) as $rps
                                       | summary("echo-classifier-size") | del(.inferences_per_s)
                                       + {requests_per_s: $rps}),
              identity: summary("identity"),
              classifier: summary("classifier"), "inline-classifier": summary("inline-classifier"),
              "torch-loop": summary("torch-loop"),
              mlp: summary("mlp"), "mlp-int8": summary("mlp-int8"),
              "mlp-loop": summary("mlp-loop"), "mlp-int8-loop": summary("mlp-int8-loop")},
    ratios: {identity_over_echo: ratio("identity"; "echo"),
             classifier_over_torch_loop: ratio("classifier"; "torch-loop"),
             classifier_bound_over_torch_loop: (classifier_bound_rounds | map(.bound_over_loop) | rounded_median),
             classifier_over_bound: (classifier_bound_rounds | map(.classifier_over_bound) | rounded_median),
             inline_server_over_torch_loop: ratio("inline-classifier"; "torch-loop"),
             classifier_over_inline_server: ratio("classifier"; "inline-classifier"),
             mlp_over_loop: ratio("mlp"; "mlp-loop"),
             mlp_int8_over_loop: ratio("mlp-int8"; "mlp-int8-loop"),
             mlp_int8_over_mlp: ratio("mlp-int8"; "mlp"),
             mlp_int8_loop_over_mlp_loop: ratio("mlp-int8-loop"; "mlp-loop")},
    runs: .
  }' "$WORK/results.jsonl" >bench/results/latest.json

jq -r '
  "",
  "memory allocator: daemon \(.method.memory_allocator.daemon), torch loop \(.method.memory_allocator.torch_loop)",
  "median over \(.method.rounds) rounds (inferences/s, p50 us, p99 us):",
  (.summary | to_entries[] | "  \(.key): \(.value.inferences_per_s // .value.requests_per_s | round) /s, p50 \(.value.p50_us | round), p99 \(.value.p99_us | round), errors \(.value.errors)"),
  "identity / echo throughput:          \(.ratios.identity_over_echo)",
  "classifier / torch-loop throughput:  \(.ratios.classifier_over_torch_loop)",
  "  bound (the loop forward, then the bare gRPC round trip): \(.ratios.classifier_bound_over_torch_loop) of the loop; classifier / bound: \(.ratios.classifier_over_bound)",
  "  inline server (the forward on gRPC\u0027s thread): \(.ratios.inline_server_over_torch_loop) of the loop; classifier / inline server: \(.ratios.classifier_over_inline_server)",
  "mlp int8 / fp32 (daemon, loop):      \(.ratios.mlp_int8_over_mlp), \(.ratios.mlp_int8_loop_over_mlp_loop)",
  "mlp / loop (fp32, int8):             \(.ratios.mlp_over_loop), \(.ratios.mlp_int8_over_loop)",
  "written to bench/results/latest.json"' bench/results/latest.json
