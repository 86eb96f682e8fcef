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
