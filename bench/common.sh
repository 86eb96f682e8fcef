# Helpers the benchmark scripts share; sourced, not run.

# The top-level build puts binaries beside their CMakeLists; accept either layout.
find_binary() {
  local candidate
  for candidate in "$@"; do
    if [[ -x "$candidate" ]]; then echo "$candidate"; return 0; fi
  done
  return 1
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Stops a server with SIGTERM and waits for it, killing it after `grace` seconds.
stop() {
  local pid="$1" grace="$2" waited=0
  kill -TERM "$pid" 2>/dev/null || return 0
  while kill -0 "$pid" 2>/dev/null && (( waited < grace * 10 )); do sleep 0.1; waited=$((waited + 1)); done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

# Sets BENCH and CLI from the build folder `build`, and EDGESERVE to
# `build`/edgeserve unless already set; errors name `script`.
find_tools() {
  local script="$1" build="$2"
  BENCH="$(find_binary "$build/edgeserve-bench" "$build/bench/edgeserve-bench")" || {
    echo "$script: no edgeserve-bench under $build; build it first" >&2; exit 1; }
  CLI="$(find_binary "$build/edgeserve-cli" "$build/src/cli/edgeserve-cli")" || {
    echo "$script: no edgeserve-cli under $build; build it first" >&2; exit 1; }
  EDGESERVE="${EDGESERVE:-$build/edgeserve}"
  [[ -x "$EDGESERVE" ]] || { echo "$script: no daemon at $EDGESERVE" >&2; exit 1; }
}

# Makes the benchmark model at `source` (bench/models/NAME) when it is missing.
ensure_bench_model() {
  local script="$1" source="$2"
  [[ -f "$source/1/model.pt" ]] || /usr/bin/python3 bench/make_bench_models.py --out bench/models >&2 || {
    echo "$script: bench/make_bench_models.py could not make $source" >&2; exit 1; }
}

# Ready means ServerReady (the CLI's health) or, where CLI is empty, an
# identity request through BENCH that succeeds.
daemon_ready() {
  local address="$1"
  if [[ -n "$CLI" ]]; then
    "$CLI" --url "$address" health >/dev/null 2>&1
  else
    "$BENCH" grpc --url "$address" --model identity --warmup-s 0 --duration-s 0.05 --timeout-ms 1000 \
      >/dev/null 2>&1
  fi
}

# Waits until the daemon `pid` on `address` is ready (daemon_ready); if it
# exits or a minute passes, prints its models (with the CLI) and the end of
# `log` and exits.
wait_until_ready() {
  local script="$1" address="$2" pid="$3" log="$4" tries=0
  until daemon_ready "$address"; do
    if ! kill -0 "$pid" 2>/dev/null || (( tries >= 600 )); then
      echo "$script: edgeserve did not become ready on $address; its models:" >&2
      [[ -z "$CLI" ]] || "$CLI" --url "$address" models >&2 2>/dev/null || true
      echo "its log ends:" >&2
      tail -n 20 "$log" >&2
      exit 1
    fi
    sleep 0.1
    tries=$((tries + 1))
  done
}
