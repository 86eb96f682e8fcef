#!/usr/bin/env python3
"""How much SLO attainment any batcher can reach on a given device, by simulation.

The scheduler sweep (bench/slo_sweep.sh) measures what edgeserve's `slo` mode
attains. This script asks what is reachable at all: one instance whose batch
of b takes L(b), Poisson arrivals at a fraction of the capacity C, every
request due SLO after its arrival. It simulates two policies on the same
arrivals:

  greedy      whenever the instance is free, drop from the head of the queue
              what cannot finish in time even alone, then run at once the
              largest batch whose oldest member still finishes in time (the
              dispatch rule of edgeserve's `slo` mode, with exact knowledge of
              L(b) and no admission control)
  lookahead   knows every future arrival: at each decision it tries every
              batch size, skipping the head, and waiting for the next arrival,
              plays greedy on for --horizon-ms after each, and takes the best

Neither is proven optimal; `lookahead` sees the future, which no server can,
so what it cannot reach is out of reach for any online policy of this kind.
By default L(b), the SLO and C come from a sweep's JSON (bench/results/
slo_sweep.json), with C defined as the sweep defines it: the best b / L(b)
among batch sizes whose latency twice fits the SLO. Only the standard library
is used.
"""

import argparse
import json
import math
import random
import statistics
import sys


def capacity_per_s(latency_ms, slo_ms):
    """The sweep's C: the best b / L(b) among b with 2 x L(b) <= SLO."""
    rates = [b / latency_ms[b - 1] * 1000.0 for b in range(1, len(latency_ms) + 1)
             if 2 * latency_ms[b - 1] <= slo_ms]
    if not rates:
        raise ValueError("not even a batch of 1 fits twice in the SLO")
    return max(rates)


def poisson_arrivals(rate_per_s, duration_s, seed):
    """Arrival times in ms over [0, duration_s), exponential gaps."""
    rng = random.Random(seed)
    arrivals = []
    now = rng.expovariate(rate_per_s / 1000.0)
    while now < duration_s * 1000.0:
        arrivals.append(now)
        now += rng.expovariate(rate_per_s / 1000.0)
    return arrivals


class Device:
    """L(b) in ms for b = 1..len; `jitter` is the relative standard deviation
    of a batch's actual latency around L(b) (0: exactly L(b))."""

    def __init__(self, latency_ms, jitter=0.0, seed=0):
        self.latency_ms = list(latency_ms)
        self.jitter = jitter
        self.rng = random.Random(seed)

    @property
    def max_batch(self):
        return len(self.latency_ms)

    def expected(self, batch):
        return self.latency_ms[batch - 1]

    def run(self, batch):
        latency = self.expected(batch)
        if self.jitter > 0:
            latency *= max(0.05, 1.0 + self.rng.gauss(0.0, self.jitter))
        return latency


def largest_feasible_batch(queue, now, device, slo_ms):
    """The largest b whose batch, started now, answers queue[0] in time; 0 if none."""
    for batch in range(min(len(queue), device.max_batch), 0, -1):
        if now + device.expected(batch) <= queue[0] + slo_ms:
            return batch
    return 0


def simulate(arrivals, device, slo_ms, policy, horizon_ms=None, start_index=0, start_ms=0.0, queue=None):
    """Answers within the SLO. With horizon_ms, stops once the clock passes
    start_ms + horizon_ms (used by the lookahead's rollouts)."""
    queue = list(queue or [])
    index = start_index
    now = start_ms
    good = 0
    stop_at = None if horizon_ms is None else start_ms + horizon_ms
    while index < len(arrivals) or queue:
        if stop_at is not None and now >= stop_at:
            break
        if not queue:
            if stop_at is not None and arrivals[index] >= stop_at:
                break
            now = max(now, arrivals[index])
        while index < len(arrivals) and arrivals[index] <= now:
            queue.append(arrivals[index])
            index += 1
        while queue and now + device.expected(1) > queue[0] + slo_ms:
            queue.pop(0)  # late whatever happens: dropped, never run
        if not queue:
            continue
        action = policy(queue, now, device, slo_ms, arrivals, index, horizon_ms is None)
        if action == "wait":
            now = arrivals[index]
            continue
        batch, skip = action
        del queue[:skip]
        finished = now + (device.run(batch) if horizon_ms is None else device.expected(batch))
        good += sum(1 for arrival in queue[:batch] if finished - arrival <= slo_ms)
        del queue[:batch]
        now = finished
    return good


def greedy(queue, now, device, slo_ms, arrivals, index, top_level):
    return largest_feasible_batch(queue, now, device, slo_ms), 0


def make_lookahead(horizon_ms):
    def lookahead(queue, now, device, slo_ms, arrivals, index, top_level):
        if not top_level:  # inside a rollout: play greedy
            return greedy(queue, now, device, slo_ms, arrivals, index, top_level)
        # Every rollout ends at the same instant, so that no choice is scored
        # over a longer stretch of the future than another.
        until = now + horizon_ms
        best_score, best_action = -1, None
        for skip in (0, 1):
            rest = queue[skip:]
            if not rest:
                continue
            for batch in range(1, largest_feasible_batch(rest, now, device, slo_ms) + 1):
                finished = now + device.expected(batch)
                score = sum(1 for arrival in rest[:batch] if finished - arrival <= slo_ms)
                score += simulate(arrivals, device, slo_ms, greedy, until - finished, index, finished, rest[batch:])
                if score > best_score:
                    best_score, best_action = score, (batch, skip)
        if index < len(arrivals) and arrivals[index] + device.expected(1) <= queue[0] + slo_ms:
            score = simulate(arrivals, device, slo_ms, greedy, until - arrivals[index], index, arrivals[index], queue)
            if score > best_score:
                best_action = "wait"
        return best_action if best_action is not None else greedy(queue, now, device, slo_ms, arrivals, index, top_level)
    return lookahead


def attainment(latency_ms, slo_ms, rate_per_s, policy, seed, duration_s=10.0, jitter=0.0):
    arrivals = poisson_arrivals(rate_per_s, duration_s, seed)
    if not arrivals:
        return 1.0, 0.0
    good = simulate(arrivals, Device(latency_ms, jitter, seed), slo_ms, policy)
    return good / len(arrivals), good / duration_s


def read_sweep(path):
    with open(path, encoding="utf-8") as file:
        method = json.load(file)["method"]
    profile = method.get("latency_profile_ms")
    if not profile:
        raise ValueError(f"{path} has no method.latency_profile_ms (sweeps before session 9 did not record L(b)); "
                         "give --latency-ms")
    return [float(value) for value in profile], float(method["slo_ms"]), float(method["capacity_per_s"])


def parse_floats(text, name):
    try:
        values = [float(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise SystemExit(f"slo_bound.py: {name}: expected comma-separated numbers, got '{text}'")
    if not values or any(value <= 0 or math.isnan(value) for value in values):
        raise SystemExit(f"slo_bound.py: {name}: expected positive numbers, got '{text}'")
    return values


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sweep-json", default=None,
                        help="take L(b), the SLO and C from a sweep's JSON (default: bench/results/slo_sweep.json "
                             "unless --latency-ms is given)")
    parser.add_argument("--latency-ms", help="L(1),L(2),... in ms")
    parser.add_argument("--slo-ms", type=float, help="default: the sweep's, or 4 x L(1)")
    parser.add_argument("--capacity", type=float, help="C in requests/s; default: the sweep's, or best b / L(b) "
                                                       "with 2 x L(b) <= SLO")
    parser.add_argument("--loads", default="0.5,0.6,0.7,0.8", help="fractions of C (default 0.5,0.6,0.7,0.8)")
    parser.add_argument("--runs", type=int, default=10, help="seeds per load (default 10)")
    parser.add_argument("--duration-s", type=float, default=10.0, help="arrivals per run (default 10 s, as the sweep)")
    parser.add_argument("--jitter", default="0", help="relative deviations of a batch's latency, e.g. 0,0.1")
    parser.add_argument("--policies", default="greedy,lookahead", help="greedy, lookahead or both (default)")
    parser.add_argument("--horizon-ms", type=float, default=120.0, help="the lookahead's rollout (default 120 ms)")
    args = parser.parse_args(argv)

    if args.latency_ms:
        latency_ms = parse_floats(args.latency_ms, "--latency-ms")
        slo_ms = args.slo_ms or 4 * latency_ms[0]
        capacity = args.capacity or capacity_per_s(latency_ms, slo_ms)
        source = "--latency-ms"
    else:
        path = args.sweep_json or "bench/results/slo_sweep.json"
        try:
            latency_ms, slo_ms, capacity = read_sweep(path)
        except (OSError, ValueError) as error:
            raise SystemExit(f"slo_bound.py: {error}")
        except KeyError as error:
            raise SystemExit(f"slo_bound.py: {path} is not a sweep's JSON: it lacks {error}")
        slo_ms = args.slo_ms or slo_ms
        capacity = args.capacity or capacity
        source = path
    loads = parse_floats(args.loads, "--loads")
    try:
        jitters = [float(value) for value in args.jitter.split(",")]
    except ValueError:
        raise SystemExit(f"slo_bound.py: --jitter: expected comma-separated numbers such as 0,0.1, got '{args.jitter}'")
    if any(not 0 <= value < 1 for value in jitters):
        raise SystemExit(f"slo_bound.py: --jitter: each value is a fraction from 0 to below 1, got '{args.jitter}'")
    policies = {"greedy": greedy, "lookahead": make_lookahead(args.horizon_ms)}
    chosen = [name.strip() for name in args.policies.split(",")]
    for name in chosen:
        if name not in policies:
            raise SystemExit(f"slo_bound.py: --policies: unknown policy '{name}'; expected greedy or lookahead")
    if args.runs < 1:
        raise SystemExit("slo_bound.py: --runs: expected 1 or more")

    print(f"L(b) from {source}: " + ", ".join(f"{value:.2f}" for value in latency_ms) + " ms")
    print(f"SLO {slo_ms:.2f} ms, C {capacity:.1f} requests/s, {args.runs} runs of {args.duration_s:g} s per cell; "
          "attainment: median (lowest to highest run)")
    print()
    print("| load (x C) | policy | latency jitter | attainment | goodput /s |")
    print("| --- | --- | --- | --- | ---: |")
    for load in loads:
        for jitter in jitters:
            for name in chosen:
                results = [attainment(latency_ms, slo_ms, load * capacity, policies[name], seed, args.duration_s, jitter)
                           for seed in range(1, args.runs + 1)]
                shares = [share for share, _ in results]
                print(f"| {load:g} | {name} | {jitter:.0%} | {statistics.median(shares):.1%} "
                      f"({min(shares):.1%} to {max(shares):.1%}) | {statistics.median(g for _, g in results):.1f} |",
                      flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
