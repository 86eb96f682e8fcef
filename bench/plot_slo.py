#!/usr/bin/python3
"""Draws bench/slo_sweep.sh's results: goodput and p99 latency against offered load.

usage: /usr/bin/python3 bench/plot_slo.py [RESULTS.json] [OUT.png]
(defaults: bench/results/slo_sweep.json, bench/results/slo_sweep.png)

One line per batching mode, each point the median over the sweep's rounds of
that load (--repeats); for fixed_delay, the delay of the best median goodput
of each load, as in the sweep's table. Needs Debian's python3-matplotlib.
"""
import json
import math
import sys
from collections import defaultdict

try:
    import matplotlib

    matplotlib.use("Agg")  # a file, never a window: this runs on headless boxes
    import matplotlib.pyplot as plt
except ImportError:
    sys.exit("plot_slo.py: no matplotlib; install it with: sudo apt-get install -y python3-matplotlib")

MODES = [("none", "none", "o"), ("fixed_delay", "fixed_delay (best delay)", "s"), ("slo", "slo", "^")]


def median(values):
    values = sorted(values)
    if not values:
        return math.nan
    middle = len(values) // 2
    return values[middle] if len(values) % 2 else (values[middle - 1] + values[middle]) / 2


def medians_per_copy(runs):
    """{(config, load): {batching, goodput_per_s, p99_ms}}: each copy's medians over its rounds.

    A round without successes has no p99 and is left out of the p99's median.
    """
    grouped = defaultdict(list)
    for run in runs:
        grouped[(run["config"], run["load"])].append(run)
    return {
        key: {
            "batching": rounds[0]["batching"],
            "goodput_per_s": median([run["goodput_per_s"] for run in rounds]),
            "p99_ms": median([run["p99_us"] / 1000 for run in rounds if run["successes"] > 0]),
        }
        for key, rounds in grouped.items()
    }


def best_per_load(runs):
    """{mode: [(load, medians)]}, sorted by load, keeping the fixed_delay copy of the best median goodput.

    On a tie the later copy wins, as with jq's max_by in the sweep's table.
    """
    best = defaultdict(dict)
    for (_, load), copy in sorted(medians_per_copy(runs).items()):
        mode = copy["batching"]
        kept = best[mode].get(load)
        if kept is None or copy["goodput_per_s"] >= kept["goodput_per_s"]:
            best[mode][load] = copy
    return {mode: sorted(by_load.items()) for mode, by_load in best.items()}


def main(argv):
    results_path = argv[1] if len(argv) > 1 else "bench/results/slo_sweep.json"
    out_path = argv[2] if len(argv) > 2 else "bench/results/slo_sweep.png"
    with open(results_path) as f:
        results = json.load(f)
    method = results["method"]
    capacity = method["capacity_per_s"]
    slo_ms = method["slo_ms"]
    by_mode = best_per_load(results["runs"])
    if not by_mode:
        sys.exit(f"plot_slo.py: no runs in {results_path}")

    fig, (goodput_axes, latency_axes) = plt.subplots(1, 2, figsize=(11, 4.5))
    loads = sorted({run["load"] for run in results["runs"]})
    goodput_axes.plot(loads, loads, color="0.7", linestyle="--", label="offered")
    for mode, label, marker in MODES:
        points = by_mode.get(mode, [])
        if not points:
            continue
        x = [load for load, _ in points]
        goodput_axes.plot(x, [copy["goodput_per_s"] / capacity for _, copy in points], marker=marker, label=label)
        # No successes, no p99 (nan): a gap rather than a zero on a log axis.
        latency_axes.plot(x, [copy["p99_ms"] for _, copy in points], marker=marker, label=label)

    goodput_axes.set_xlabel("offered load (x C)")
    goodput_axes.set_ylabel(f"goodput (x C), C = {capacity:.0f} requests/s")
    rounds = method.get("repeats", 1)
    goodput_axes.set_title(f"goodput within the {slo_ms:g} ms SLO" + (f", median of {rounds}" if rounds > 1 else ""))
    goodput_axes.set_ylim(bottom=0)
    goodput_axes.grid(True, alpha=0.3)
    goodput_axes.legend()

    latency_axes.axhline(slo_ms, color="0.5", linestyle=":", label=f"SLO {slo_ms:g} ms")
    latency_axes.set_yscale("log")
    latency_axes.set_xlabel("offered load (x C)")
    latency_axes.set_ylabel("p99 latency of successes (ms)")
    latency_axes.set_title("p99 latency of successes")
    latency_axes.grid(True, which="both", alpha=0.3)
    latency_axes.legend()

    model = results.get("method", {}).get("model", "classifier").split(" ")[0]
    fig.suptitle(f"{model}, {results.get('date', '')}, commit {results.get('commit', '?')}")
    fig.tight_layout()
    fig.savefig(out_path, dpi=120)
    print(f"written to {out_path}")


if __name__ == "__main__":
    main(sys.argv)
