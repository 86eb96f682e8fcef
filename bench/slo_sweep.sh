#!/usr/bin/env bash
# The scheduler comparison: goodput under an SLO against offered load, for the
# image classifier batched three ways (model config `batching.mode`):
#   none         one request per execution
#   fixed_delay  Triton's dynamic batcher, max_queue_delay_us 500/1000/2000/4000
#   slo          batches sized so that requests meet latency_target_ms
# Steps:
#   (a) L1, the classifier's batch-1 latency: p50 of a closed loop at
#       concurrency 1 against the `none` copy, on a daemon serving only that
#       copy (the other copies' configs need the SLO, which comes from L1);
#       SLO = 4 x L1 unless --slo-ms is given, and then (a) is skipped.
#   (b) on the same daemon, capacity C = the most inferences/s the device serves while keeping the SLO:
#       max over b of b / L(b) among batch sizes with 2 x L(b) <= SLO (a
#       request may wait for one batch, then run in the next), L(b) measured
#       as the p50 of batches of b sent by one client to the `none` copy, the
#       median of three passes through the sizes;
#       unless --capacity is given.
#   (c) for each offered load (x C) and each copy, a daemon serving that copy
#       alone and an open-loop run with
#       Poisson arrivals (the same seed for every copy, so every mode sees the
#       same arrivals at a given load); with --repeats N, N such rounds per
#       load, round r with seed + r - 1, the copies alternating within each
#       round, and the table gives each copy's medians over the rounds.
# Every run's JSON line goes into bench/results/slo_sweep.json with the method
# (slo_sweep_small_input.json for classifier_small_input); a markdown table
# (fixed_delay: the best delay per load by goodput) goes to stdout, and
# bench/plot_slo.py draws the PNG beside the JSON when Debian's
# python3-matplotlib is installed. All traffic stays on 127.0.0.1.
set -euo pipefail

usage() {
  cat <<'EOF'
usage: bench/slo_sweep.sh [BUILD_DIR] [--quick] [--model M] [--slo-ms MS] [--capacity R]
                          [--loads L1,L2,...] [--duration-s S] [--warmup-s W]
                          [--seed N] [--repeats N] [--threads T] [--edgeserve BIN]
                          [--config FILE] [-- OPEN-LOOP FLAGS...]

  BUILD_DIR          where edgeserve, edgeserve-bench and edgeserve-cli were built
                     (default: build)
  --model M          classifier (default: the example classifier, 602 KB a request) or
                     classifier_small_input (the same compute from a [3,32,32] input,
                     12 KB a request; bench/make_bench_models.py makes it when missing)
  --quick            3 s measured after 1 s of warm-up per run (default 10 s after 2 s);
                     36 runs: about 4 minutes, against about 10
  --slo-ms MS        the SLO (decimals allowed); default 4 x the measured batch-1 p50
  --capacity R       C in requests/s; default: measured (best b / L(b) with 2 x L(b) <= SLO)
  --loads LIST       offered loads as multiples of C (default 0.5,0.8,1.0,1.2,1.5,2.0)
  --duration-s S     measured seconds per run; --warmup-s W warm-up seconds per run
  --seed N           the arrivals' seed (default 1)
  --repeats N        rounds per load (default 1); the table and the plot give medians
                     over them, and the range of goodput. This box is noisy: one
                     10 s run can be 20% off its neighbour, so compare modes on 3 or more
  --threads T        LibTorch threads of the one instance every copy gets (default 1:
                     on 2 cores a 2-thread forward stalls whenever gRPC takes a core)
  --edgeserve BIN    the daemon (default: BUILD_DIR/edgeserve)
  --config FILE      the daemon's config (default: configs/edgeserve.yaml); the model
                     repository is made by this script
  -- FLAGS           passed to every open-loop run, e.g. -- --deadline-ms 100 --priority 1
Run from anywhere; paths are taken relative to the repository root. Needs the
classifier (make models), /usr/bin/python3 with torch for classifier_small_input,
and jq.
EOF
}

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

BUILD=build
EDGESERVE=""
CONFIG=configs/edgeserve.yaml
SLO_MS=""
CAPACITY=""
LOADS="0.5,0.8,1.0,1.2,1.5,2.0"
DURATION=10
WARMUP=2
SEED=1
REPEATS=1
THREADS=1
MODEL=classifier
EXTRA=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --quick) DURATION=3; WARMUP=1; shift ;;
    --model) MODEL="$2"; shift 2 ;;
    --slo-ms) SLO_MS="$2"; shift 2 ;;
    --capacity) CAPACITY="$2"; shift 2 ;;
    --loads) LOADS="$2"; shift 2 ;;
    --duration-s) DURATION="$2"; shift 2 ;;
    --warmup-s) WARMUP="$2"; shift 2 ;;
    --seed) SEED="$2"; shift 2 ;;
    --repeats) REPEATS="$2"; shift 2 ;;
    --threads) THREADS="$2"; shift 2 ;;
    --edgeserve) EDGESERVE="$2"; shift 2 ;;
    --config) CONFIG="$2"; shift 2 ;;
    --) shift; EXTRA=("$@"); break ;;
    -h|--help) usage; exit 0 ;;
    -*) echo "slo_sweep.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
    *) BUILD="$1"; shift ;;
  esac
done

is_number() { [[ "$1" =~ ^[0-9]+([.][0-9]+)?$ ]] && awk -v x="$1" 'BEGIN { exit !(x > 0) }'; }
[[ -z "$SLO_MS" ]] || is_number "$SLO_MS" || { echo "slo_sweep.sh: --slo-ms: expected a positive number, got '$SLO_MS'" >&2; exit 2; }
[[ -z "$CAPACITY" ]] || is_number "$CAPACITY" || { echo "slo_sweep.sh: --capacity: expected a positive number, got '$CAPACITY'" >&2; exit 2; }
[[ "$REPEATS" =~ ^[1-9][0-9]*$ ]] || { echo "slo_sweep.sh: --repeats: expected a positive integer, got '$REPEATS'" >&2; exit 2; }
[[ "$THREADS" =~ ^[1-9][0-9]*$ ]] || { echo "slo_sweep.sh: --threads: expected a positive integer, got '$THREADS'" >&2; exit 2; }
IFS=, read -r -a LOAD_LIST <<<"$LOADS"
for load in "${LOAD_LIST[@]}"; do
  is_number "$load" || { echo "slo_sweep.sh: --loads: expected positive numbers separated by commas, got '$LOADS'" >&2; exit 2; }
done

# shellcheck source=bench/common.sh
source "$ROOT/bench/common.sh"
find_tools slo_sweep.sh "$BUILD"
[[ -f "$CONFIG" ]] || { echo "slo_sweep.sh: no config at $CONFIG" >&2; exit 1; }
command -v jq >/dev/null || { echo "slo_sweep.sh: needs jq (apt-get install -y jq)" >&2; exit 1; }

case "$MODEL" in
  classifier)
    SOURCE=models/classifier
    [[ -f "$SOURCE/1/model.pt" ]] || {
      echo "slo_sweep.sh: no $SOURCE/1/model.pt; make it with make models" >&2; exit 1; }
    ;;
  classifier_small_input)
    SOURCE=bench/models/classifier_small_input
    ensure_bench_model slo_sweep.sh "$SOURCE"
    ;;
  *) echo "slo_sweep.sh: --model: expected classifier or classifier_small_input, got '$MODEL'" >&2; exit 2 ;;
esac
MODEL_FILE="$ROOT/$SOURCE/1/model.pt"
# The copies append their own instance_groups and batching sections.
if grep -Eq '^(instance_groups|batching):' "$SOURCE/config.yaml"; then
  echo "slo_sweep.sh: $SOURCE/config.yaml already has instance_groups or batching; this script sets both" >&2
  exit 1
fi
MODEL_MAX_BATCH="$(awk '$1 == "max_batch_size:" { print $2; exit }' "$SOURCE/config.yaml")"
MAX_BATCH=$(( MODEL_MAX_BATCH < 8 ? MODEL_MAX_BATCH : 8 ))
(( MAX_BATCH >= 1 )) || { echo "slo_sweep.sh: $SOURCE does not batch (max_batch_size $MODEL_MAX_BATCH)" >&2; exit 1; }
# One request: a batch of 1 of the first input's declared shape.
SHAPE="1,$(awk -F'[][]' '/shape:/ { gsub(/ /, "", $2); print $2; exit }' "$SOURCE/config.yaml")"
REQUEST_KB="$(awk -v shape="$SHAPE" 'BEGIN { n = split(shape, d, ","); b = 4; for (i = 1; i <= n; ++i) b *= d[i]; printf "%.0f", b / 1000 }')"
FIXED_DELAYS=(500 1000 2000 4000)
MAX_QUEUE_SIZE=1024

# The plot is optional; say early how to get it rather than install anything.
PLOT=1
if ! /usr/bin/python3 -c 'import matplotlib' 2>/dev/null; then
  PLOT=0
  echo "slo_sweep.sh: no matplotlib for /usr/bin/python3, so no plot at the end; install it with:" >&2
  echo "  sudo apt-get install -y python3-matplotlib" >&2
fi

# Other work on the box skews every number here; say so rather than hide it.
LOAD_BEFORE="$(cut -d' ' -f1 /proc/loadavg)"
if awk -v load="$LOAD_BEFORE" 'BEGIN { exit !(load > 0.5) }'; then
  echo "slo_sweep.sh: warning: load average $LOAD_BEFORE before starting; other work on this box skews the results" >&2
fi

WORK="$(mktemp -d)"
DAEMON_PID=""
cleanup() {
  [[ -n "$DAEMON_PID" ]] && kill -TERM "$DAEMON_PID" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

# Writes the copy `name` of the classifier into repository `repo` with the
# batching section given on stdin.
write_copy() {
  local repo="$1" name="$2"
  mkdir -p "$repo/$name/1"
  ln -s "$MODEL_FILE" "$repo/$name/1/model.pt"
  {
    cat "$SOURCE/config.yaml"
    echo "instance_groups: [{kind: CPU, count: 1, threads: $THREADS}]"
    cat
  } >"$repo/$name/config.yaml"
}

write_none() {
  write_copy "$1" classifier_none <<EOF
batching:
  mode: none
  max_queue_size: $MAX_QUEUE_SIZE
EOF
}

# The copy of one configuration (none, fixed_DELAY, slo) alone in `repo`;
# the slo copy gets latency target $SLO_MS.
write_one() {
  local repo="$1" config="$2"
  case "$config" in
    none) write_none "$repo" ;;
    fixed_*)
      write_copy "$repo" "classifier_$config" <<EOF
batching:
  mode: fixed_delay
  max_batch_size: $MAX_BATCH
  max_queue_delay_us: ${config#fixed_}
  max_queue_size: $MAX_QUEUE_SIZE
EOF
      ;;
    slo)
      write_copy "$repo" classifier_slo <<EOF
batching:
  mode: slo
  max_batch_size: $MAX_BATCH
  latency_target_ms: $SLO_MS
  max_queue_size: $MAX_QUEUE_SIZE
EOF
      ;;
  esac
}

# Starts the daemon on repository `repo` and a free port, sets ADDRESS, and
# returns once ServerReady says every model is ready (the config's
# strict_readiness); a copy the daemon refuses shows up in `models`.
ADDRESS=""
start_daemon() {
  local repo="$1"
  ADDRESS="127.0.0.1:$(free_port)"
  "$EDGESERVE" --config "$CONFIG" --address "$ADDRESS" --model-repository "$repo" >"$WORK/edgeserve.log" 2>&1 &
  DAEMON_PID=$!
  wait_until_ready slo_sweep.sh "$ADDRESS" "$DAEMON_PID" "$WORK/edgeserve.log"
}

stop_daemon() {
  stop "$DAEMON_PID" 35
  DAEMON_PID=""
}

# Runs edgeserve-bench and prints its JSON line. Exit status 3 (some requests
# failed) is a result; anything else is a broken run and stops the script.
RUN_LIMIT=$((DURATION + WARMUP + 60))
bench_json() {
  local line status=0
  line="$(timeout "$RUN_LIMIT" "$BENCH" "$@" --json)" || status=$?
  if [[ $status -ne 0 && $status -ne 3 ]]; then
    echo "slo_sweep.sh: run failed (exit $status): $BENCH $*" >&2
    exit 1
  fi
  echo "$line"
}

closed_loop() {
  local model="$1" concurrency="$2"
  bench_json grpc --url "$ADDRESS" --model "$model" --batch 1 --shape "$SHAPE" --concurrency "$concurrency" \
    --duration-s "$DURATION" --warmup-s "$WARMUP"
}

echo "slo sweep: $MODEL (FP32 [$SHAPE], $REQUEST_KB KB a request), ${DURATION} s per run after ${WARMUP} s of warm-up, loads $LOADS x C, $REPEATS round(s) per load"

# (a) L1 and the SLO, (b) the capacity: on a daemon serving the `none` copy
# alone. Every daemon in this script serves one copy, so that nothing but the
# measured model was loaded beside it.
L1_US=null
if [[ -z "$SLO_MS" || -z "$CAPACITY" ]]; then
  mkdir -p "$WORK/repo-none"
  write_none "$WORK/repo-none"
  start_daemon "$WORK/repo-none"
fi
if [[ -z "$SLO_MS" ]]; then
  line="$(closed_loop classifier_none 1)"
  jq -e '.errors == 0 and .requests > 0' <<<"$line" >/dev/null || {
    echo "slo_sweep.sh: the batch-1 run failed: $(jq -r .first_error <<<"$line")" >&2; exit 1; }
  L1_US="$(jq '.p50_us' <<<"$line")"
  SLO_MS="$(awk -v l1="$L1_US" 'BEGIN { printf "%.2f", 4 * l1 / 1000 }')"
  echo "L1 (batch-1 p50, concurrency 1, mode none): $(awk -v l1="$L1_US" 'BEGIN { printf "%.2f", l1 / 1000 }') ms; SLO = 4 x L1 = $SLO_MS ms"
else
  echo "SLO: $SLO_MS ms (--slo-ms)"
fi
CAPACITY_SOURCE="--capacity"
PROFILE_JSON=null  # L(1) to L(8) in ms, for bench/slo_bound.py
if [[ -z "$CAPACITY" ]]; then
  # What the device can serve while keeping the SLO: a request may wait for
  # the batch ahead of it and then run in its own, so batches of b count only
  # when twice their latency L(b) fits the SLO; C is the best b / L(b) among
  # them. L(b): the median over three passes through b = 1..8 of the p50 of
  # one client sending batches of b to the `none` copy for a second. The
  # passes spread every size over the same minute: a single run per size let
  # one quick moment set C (the tenth sweep's L(2) was 1.2 x L(1), against
  # 1.5 to 1.6 x in the others; BENCHMARKS.md).
  CAPACITY=0
  BEST_BATCH=0
  PROFILE_MS=()
  declare -A PASSES_US=()
  for pass in 1 2 3; do
    for b in 1 2 3 4 5 6 7 8; do
      line="$(bench_json grpc --url "$ADDRESS" --model classifier_none --batch "$b" --shape "$b,${SHAPE#*,}" \
        --concurrency 1 --duration-s 1 --warmup-s 0.3)"
      PASSES_US[$b]+="$(jq '.p50_us' <<<"$line") "
    done
  done
  for b in 1 2 3 4 5 6 7 8; do
    lb_us="$(tr ' ' '\n' <<<"${PASSES_US[$b]}" | grep . | sort -g | sed -n 2p)"
    PROFILE_MS+=("$(awk -v l="$lb_us" 'BEGIN { printf "%.3f", l / 1000 }')")
    fits="$(awk -v l="$lb_us" -v slo="$SLO_MS" 'BEGIN { print (2 * l / 1000 <= slo) ? 1 : 0 }')"
    rate="$(awk -v l="$lb_us" -v b="$b" 'BEGIN { printf "%.1f", b * 1e6 / l }')"
    echo "  L($b) = $(awk -v l="$lb_us" 'BEGIN { printf "%.2f", l / 1000 }') ms (passes: $(awk '{ for (i = 1; i <= NF; ++i) printf "%s%.2f", (i > 1 ? ", " : ""), $i / 1000 }' <<<"${PASSES_US[$b]}") ms): $rate inferences/s$([[ $fits == 1 ]] || echo ', 2 x L over the SLO')"
    if [[ $fits == 1 ]] && awk -v r="$rate" -v c="$CAPACITY" 'BEGIN { exit !(r > c) }'; then
      CAPACITY="$rate"
      BEST_BATCH="$b"
    fi
  done
  PROFILE_JSON="$(printf '%s\n' "${PROFILE_MS[@]}" | jq -s -c .)"
  [[ "$BEST_BATCH" != 0 ]] || { echo "slo_sweep.sh: not even a batch of 1 fits half the SLO" >&2; exit 1; }
  CAPACITY_SOURCE="best b / L(b) with 2 x L(b) <= SLO (b = $BEST_BATCH), L(b) the median over 3 passes of the p50 of 1 s of batches of b at concurrency 1, mode none"
  echo "C: $CAPACITY requests/s (batches of $BEST_BATCH)"
else
  echo "C: $CAPACITY requests/s (--capacity)"
fi
[[ -z "${DAEMON_PID:-}" ]] || stop_daemon

# (c) the sweep. The copies alternate within each load so that drift on the
# box touches every mode alike.
CONFIGS=(none)
for delay in "${FIXED_DELAYS[@]}"; do CONFIGS+=("fixed_$delay"); done
CONFIGS+=(slo)
for load in "${LOAD_LIST[@]}"; do
  rate="$(awk -v load="$load" -v c="$CAPACITY" 'BEGIN { printf "%.3f", load * c }')"
  echo "load $load x C = $rate requests/s"
  for (( repeat = 1; repeat <= REPEATS; ++repeat )); do
  seed=$((SEED + repeat - 1))
  (( REPEATS == 1 )) || echo " round $repeat (seed $seed)"
  for config in "${CONFIGS[@]}"; do
    case "$config" in
      fixed_*) mode=fixed_delay; delay="${config#fixed_}" ;;
      *) mode="$config"; delay=null ;;
    esac
    rm -rf "$WORK/repo" && mkdir -p "$WORK/repo"
    write_one "$WORK/repo" "$config"
    start_daemon "$WORK/repo"
    line="$(bench_json open-loop --url "$ADDRESS" --model "classifier_$config" --batch 1 --shape "$SHAPE" \
      --rate "$rate" --slo-ms "$SLO_MS" --seed "$seed" --duration-s "$DURATION" --warmup-s "$WARMUP" \
      ${EXTRA[@]+"${EXTRA[@]}"})"
    stop_daemon
    jq -c --argjson load "$load" --arg config "$config" --arg batching "$mode" --argjson delay "$delay" \
      --argjson repeat "$repeat" \
      '{load: $load, config: $config, batching: $batching, max_queue_delay_us: $delay, repeat: $repeat} + .' <<<"$line" \
      >>"$WORK/runs.jsonl"
    jq -r --arg config "$config" '"  \($config): goodput \(.goodput_per_s | round)/s, attainment \(.slo_attainment * 1000 | round / 10)%, p50 \(.p50_us / 1000 * 10 | round / 10) ms, p99 \(.p99_us / 1000 * 10 | round / 10) ms, rejected \(.rejected.count), other errors \(.other_errors), sender lag max \(.lag_max_us / 1000 * 10 | round / 10) ms"' \
      <<<"$line"
    if [[ "$(jq .client_timeouts <<<"$line")" != 0 ]]; then
      echo "  warning: $(jq .client_timeouts <<<"$line") requests had no answer before the client's timeout" >&2
    fi
  done
  done
done

mkdir -p bench/results
# The classifier's results keep their old name; other models get their own.
RESULTS="bench/results/slo_sweep${MODEL#classifier}"
jq -s \
  --arg date "$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
  --arg commit "$(git rev-parse --short HEAD 2>/dev/null || echo none)" \
  --arg cpu "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)" \
  --argjson cores "$(nproc)" --argjson load_before "$LOAD_BEFORE" \
  --argjson l1 "$L1_US" --argjson profile "$PROFILE_JSON" --argjson slo "$SLO_MS" --argjson capacity "$CAPACITY" --arg capacity_source "$CAPACITY_SOURCE" \
  --argjson duration "$DURATION" --argjson warmup "$WARMUP" --argjson seed "$SEED" --argjson repeats "$REPEATS" \
  --arg loads "$LOADS" \
  --arg model "$MODEL" --arg shape "$SHAPE" --argjson request_kb "$REQUEST_KB" \
  --arg extra "${EXTRA[*]+${EXTRA[*]}}" --argjson max_batch "$MAX_BATCH" --argjson threads "$THREADS" '
  {
    date: $date, commit: $commit, host: {cpu: $cpu, cores: $cores, load_average_before: $load_before},
    method: {
      model: "\($model) (mobilenet_v3_small), FP32 [\($shape)], \($request_kb) KB, batch 1 per request",
      instances: "one CPU instance of \($threads) LibTorch thread(s) per copy",
      batching: {max_batch_size: $max_batch, fixed_delay_us: [500, 1000, 2000, 4000]},
      l1_p50_us: $l1,
      latency_profile_ms: $profile,
      slo_ms: $slo, slo_source: (if $l1 == null then "--slo-ms" else "4 x L1 (closed loop, concurrency 1, mode none)" end),
      capacity_per_s: $capacity, capacity_source: $capacity_source,
      loads: ($loads | split(",") | map(tonumber)),
      open_loop: "Poisson arrivals, seed \($seed) + round - 1 for every run of a round, \($duration) s after \($warmup) s of warm-up; latency from the scheduled arrival",
      repeats: $repeats,
      open_loop_flags: $extra,
      goodput: "successes within the SLO per second; attainment: those over every arrival in the window"},
    runs: .
  }' "$WORK/runs.jsonl" >"$RESULTS.json"

# The markdown table: per load, none, the best fixed_delay by goodput, slo;
# each copy's medians over the rounds of its load.
jq -r '
  def ms: if . == null then "-" else . / 1000 * 100 | round / 100 | tostring end;
  def median: sort | if length == 0 then null elif length % 2 == 1 then .[length / 2 | floor]
                     else (.[length / 2 - 1] + .[length / 2]) / 2 end;
  def one: . * 10 | round / 10;
  def medians: {
    load: .[0].load, config: .[0].config, batching: .[0].batching, max_queue_delay_us: .[0].max_queue_delay_us,
    offered_rate_per_s: .[0].offered_rate_per_s,
    goodput_per_s: map(.goodput_per_s) | median,
    goodput_range: "\(map(.goodput_per_s) | min | one) to \(map(.goodput_per_s) | max | one)",
    slo_attainment: map(.slo_attainment) | median,
    p50_us: map(select(.successes > 0) | .p50_us) | median,
    p99_us: map(select(.successes > 0) | .p99_us) | median,
    rejected: {count: (map(.rejected.count) | median),
               p99_us: (map(select(.rejected.count > 0) | .rejected.p99_us) | median)}};
  def row($capacity): "| \(.load) | \(.offered_rate_per_s | one) | \(.label) | \(.goodput_per_s | one) | \(.goodput_range) | \(.goodput_per_s / $capacity * 1000 | round / 10)% | \(.slo_attainment * 1000 | round / 10)% | \(.p50_us | ms) | \(.p99_us | ms) | \(.rejected.count) | \(if .rejected.count > 0 then (.rejected.p99_us | ms) else "-" end) |";
  .method.capacity_per_s as $capacity |
  "",
  "SLO \(.method.slo_ms) ms, C \($capacity * 10 | round / 10) requests/s; \(.method.repeats // 1) round(s) per load, medians over them; latencies in ms; fixed_delay: the best delay of the load by median goodput",
  "",
  "| load (x C) | offered /s | mode | goodput /s | goodput range | goodput % of C | SLO attainment | p50 | p99 | rejected | rejected p99 |",
  "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
  (.runs | group_by(.load)[] | [group_by(.config)[] | medians] |
    (map(select(.batching == "none"))[] | . + {label: "none"}),
    (map(select(.batching == "fixed_delay")) | max_by(.goodput_per_s) | select(. != null)
      | . + {label: "fixed_delay (\(.max_queue_delay_us) us)"}),
    (map(select(.batching == "slo"))[] | . + {label: "slo"})
    | row($capacity)),
  "",
  "written to \($results).json"' --arg results "$RESULTS" "$RESULTS.json"

if [[ $PLOT == 1 ]]; then
  /usr/bin/python3 bench/plot_slo.py "$RESULTS.json" "$RESULTS.png"
else
  echo "no plot: install python3-matplotlib (sudo apt-get install -y python3-matplotlib), then run /usr/bin/python3 bench/plot_slo.py"
fi
