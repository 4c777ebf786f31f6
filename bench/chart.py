#!/usr/bin/env python3
"""Draw docs/performance.png from bench/run's results.json: one group of bars per
workload, one bar per target, height = time(target) / time(native), log scale."""

import json
import sys

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402


def main():
    src, dst = sys.argv[1], sys.argv[2]
    with open(src) as f:
        data = json.load(f)
    targets = [t for t in data['targets'] if t != 'native']
    workloads = data['workloads'] + ['geomean']
    fig, ax = plt.subplots(figsize=(15, 5.5), dpi=100)
    width = 0.8 / max(len(targets), 1)
    # One colour per target (tab20 has 20), so no two bars of a group look alike.
    palette = plt.get_cmap('tab20').colors
    colors = [palette[(2 * i) % 20 + (2 * i) // 20 % 2] for i in range(len(targets))]
    for i, t in enumerate(targets):
        r = data['results'][t]
        ys = r['ratios'] + [r['geomean']]
        xs = [w + (i - (len(targets) - 1) / 2) * width for w in range(len(workloads))]
        pts = [(x, y) for x, y in zip(xs, ys) if y is not None]
        bars = ax.bar([p[0] for p in pts], [p[1] for p in pts], width,
                      label=t, color=colors[i])
        if r['geomean'] is not None:
            bars[-1].set_edgecolor('black')
            ax.annotate(f"×{r['geomean']:.1f}", (pts[-1][0], pts[-1][1]), ha='center',
                        va='bottom', fontsize=7, rotation=90, xytext=(0, 2),
                        textcoords='offset points')
    ax.set_yscale('log')
    ax.axhline(1.0, color='black', linewidth=0.8)
    ax.set_xticks(range(len(workloads)))
    ax.set_xticklabels(workloads, rotation=30, ha='right')
    ax.set_ylabel('time / time(native tmpfs)  (log scale, lower is better)')
    ax.set_title(f"flu benchmark: ratio to native tmpfs — {data['date']}, "
                 f"Linux {data['kernel']}, {data['cpus']} CPUs, median of {data['reps']}")
    ax.grid(axis='y', which='both', alpha=0.3)
    # Beside the plot, not over it: with a dozen targets it would hide bars.
    ax.legend(loc='upper left', bbox_to_anchor=(1.005, 1.0), fontsize=8)
    fig.tight_layout()
    fig.savefig(dst)


if __name__ == '__main__':
    main()
