#!/usr/bin/python3
"""Draws bench/slo_sweep.sh's results: goodput and p99 latency against offered load.

usage: /usr/bin/python3 bench/plot_slo.py [RESULTS.json] [OUT.png]
(defaults: bench/results/slo_sweep.json, bench/results/slo_sweep.png)

One line per batching mode; for fixed_delay, the best delay of each load by
goodput, as in the sweep's table. Needs Debian's python3-matplotlib.
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


def best_per_load(runs):
    """{mode: [(load, run)]}, sorted by load, keeping the best fixed_delay run by goodput.

    On a tie the later run wins, as with jq's max_by in the sweep's table.
    """
    best = defaultdict(dict)
    for run in runs:
        mode, load = run["batching"], run["load"]
        kept = best[mode].get(load)
        if kept is None or run["goodput_per_s"] >= kept["goodput_per_s"]:
            best[mode][load] = run
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
        goodput_axes.plot(x, [run["goodput_per_s"] / capacity for _, run in points], marker=marker, label=label)
        # No successes, no p99: leave a gap rather than plot a zero on a log axis.
        p99 = [run["p99_us"] / 1000 if run["successes"] > 0 else math.nan for _, run in points]
        latency_axes.plot(x, p99, marker=marker, label=label)

    goodput_axes.set_xlabel("offered load (x C)")
    goodput_axes.set_ylabel(f"goodput (x C), C = {capacity:.0f} requests/s")
    goodput_axes.set_title(f"goodput: successes within the {slo_ms:g} ms SLO")
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
