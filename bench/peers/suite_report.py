#!/usr/bin/env python3
"""The benchmark suite's report: one markdown file, one JSON file and two PNG charts from the
workloads' JSON records (bench/peers/suite_json.py) of one `bench/run`.

    suite_report.py --run-dir DIR --out STEM --command TEXT --mode MODE --machine TEXT
                    --workload NAME:RC ...

Writes STEM.md, STEM.json, STEM-time.png (median time per tool per workload) and
STEM-floor.png (each tool's time as a multiple of the workload's read+decode floor). A workload
whose outputs did not agree, or whose script failed, is listed with its reason and no time.
Charts need matplotlib (Debian's python3-matplotlib); without it the report says so.
"""
import argparse
import datetime
import json
import os
import re
import subprocess

FLOOR_NOTE = "time / the workload's read+decode floor (bench/peers/*io_floor*: GDAL reading and decoding the same inputs, nothing else)"


def load(run_dir, name, rc):
    path = os.path.join(run_dir, f"{name}.json")
    if os.path.exists(path):
        with open(path) as fh:
            w = json.load(fh)
    else:
        w = {"workload": name, "tools": [], "floors": [], "agreement": {"verdict": "unchecked", "tolerance": "", "checks": []},
             "dataset": "", "markdown": ""}
    w["rc"] = rc
    w["log"] = os.path.join(run_dir, f"{name}.log")
    if w["agreement"]["verdict"] == "differs":
        w["status"] = "outputs did not agree: no time reported"
    elif rc != 0:
        w["status"] = f"script failed (exit {rc}, see {w['log']})"
    elif w["agreement"]["verdict"] == "unchecked":
        w["status"] = "agreement not checked (a peer missing): times shown are reclaim's and the floor's only"
    else:
        w["status"] = "agreed"
    return w


def floor_median(w, group):
    meds = [t["median_s"] for t in w["tools"] if t["role"] == "floor" and t["group"] == group and t["median_s"]]
    return min(meds) if meds else None


def reclaim_median(w, group):
    for t in w["tools"]:
        if t["role"] == "reclaim" and t["group"] == group and t["median_s"]:
            return t["median_s"]
    return None


def demote_headings(text):
    """A workload's own markdown headings, two levels down (under "Workloads in detail"); the
    comment lines of its fenced code blocks stay as they are."""
    lines, fenced = [], False
    for line in text.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced:
            line = re.sub(r"^(#+) ", lambda m: "#" * min(len(m.group(1)) + 2, 6) + " ", line)
        lines.append(line)
    return "\n".join(lines)


def fmt(x, digits=2):
    return "" if x is None else f"{x:.{digits}f}"


def summary_rows(workloads):
    rows = []
    for w in workloads:
        for t in w["tools"]:
            med = t["median_s"]
            rec = reclaim_median(w, t["group"])
            flo = floor_median(w, t["group"])
            rows.append((w["workload"], t["group"], t["tool"], t["role"], med, t["peak_rss_mb"],
                         med / rec if med and rec else None, med / flo if med and flo else None, t["failed"]))
    return rows


def charts(workloads, stem):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "charts not drawn: matplotlib is missing (Debian: python3-matplotlib)"
    shown = [w for w in workloads if any(t["median_s"] for t in w["tools"])]
    if not shown:
        return "charts not drawn: no workload reported a time"
    colours = {"reclaim": "#1b7837", "peer": "#762a83", "floor": "#999999"}
    # 1: median wall time per tool, one panel per workload
    heights = [max(1, sum(1 for t in w["tools"] if t["median_s"])) for w in shown]
    fig, axes = plt.subplots(len(shown), 1, figsize=(8, 1.0 + 0.4 * sum(heights) + 0.5 * len(shown)), squeeze=False,
                             gridspec_kw={"height_ratios": heights})
    for ax, w in zip(axes[:, 0], shown):
        tools = [t for t in w["tools"] if t["median_s"]]
        labels = [f"{t['tool']}" + (f" ({t['group']})" if t["group"] else "") for t in tools]
        ax.barh(range(len(tools)), [t["median_s"] for t in tools], color=[colours[t["role"]] for t in tools])
        ax.set_yticks(range(len(tools)), labels, fontsize=8)
        ax.invert_yaxis()
        ax.set_title(w["workload"], fontsize=9, loc="left")
        ax.tick_params(axis="x", labelsize=8)
    axes[-1, 0].set_xlabel("median wall time (s); green reclaim, purple peers, grey read+decode floor")
    fig.tight_layout()
    fig.savefig(f"{stem}-time.png", dpi=110)
    plt.close(fig)
    # 2: time as a multiple of the read+decode floor
    bars = []
    for w in shown:
        for t in w["tools"]:
            flo = floor_median(w, t["group"])
            if t["median_s"] and flo and t["role"] != "floor":
                bars.append((f"{w['workload']}: {t['tool']}" + (f" ({t['group']})" if t["group"] else ""),
                             t["median_s"] / flo, colours[t["role"]]))
    fig, ax = plt.subplots(figsize=(8, 1.0 + 0.3 * max(len(bars), 1)))
    if bars:
        ax.barh(range(len(bars)), [b[1] for b in bars], color=[b[2] for b in bars])
        ax.set_yticks(range(len(bars)), [b[0] for b in bars], fontsize=8)
        ax.invert_yaxis()
        ax.axvline(1.0, color="black", linewidth=0.8)
    ax.set_xlabel("time / read+decode floor (1 = the floor)", fontsize=8)
    fig.tight_layout()
    fig.savefig(f"{stem}-floor.png", dpi=110)
    plt.close(fig)
    return ""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--run-dir", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--command", required=True)
    ap.add_argument("--mode", required=True)
    ap.add_argument("--machine", required=True)
    ap.add_argument("--workload", action="append", default=[], help="NAME:RC")
    a = ap.parse_args()

    workloads = []
    for item in a.workload:
        name, rc = item.rsplit(":", 1)
        workloads.append(load(a.run_dir, name, int(rc)))
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    try:
        commit = subprocess.run(["git", "-C", repo, "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                                check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", repo, "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True).stdout.strip()
        commit += " (with uncommitted changes)" if dirty else ""
    except (OSError, subprocess.CalledProcessError):
        commit = "unknown"
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    chart_note = charts(workloads, a.out)
    base = os.path.basename(a.out)

    doc = {"date": now, "machine": a.machine, "command": a.command, "mode": a.mode, "commit": commit,
           "workloads": workloads}
    with open(f"{a.out}.json", "w") as fh:
        json.dump(doc, fh, indent=1)
        fh.write("\n")

    out = [f"# Benchmark suite ({a.mode}): {a.machine}", "",
           f"Produced by `{a.command}` on {now}, reclaim at {commit}.", "",
           "Every workload checks that reclaim's and the peers' outputs agree within its stated tolerance",
           "before any time is reported (section Agreement); the details of each workload follow at the end.", "",
           "## Summary", "",
           "| workload | inputs | tool | role | median s | peak RSS MB | / reclaim | / floor |",
           "| --- | --- | --- | --- | ---: | ---: | ---: | ---: |"]
    for wl, group, tool, role, med, rss, vs_rec, vs_floor, failed in summary_rows(workloads):
        if failed:
            out.append(f"| {wl} | {group} | {tool} | {role} | failed ({failed}) | | | |")
        else:
            out.append(f"| {wl} | {group} | {tool} | {role} | {fmt(med)} | {fmt(rss, 0)} | {fmt(vs_rec)} | {fmt(vs_floor)} |")
    for w in workloads:
        if not w["tools"] or w["status"] != "agreed":
            out.append(f"| {w['workload']} | | ({w['status']}) | | | | | |")
    out += ["", f"/ reclaim: time / reclaim's in the same workload and inputs; / floor: {FLOOR_NOTE}.", "",
            "## Floors", ""]
    any_floor = False
    for w in workloads:
        for f in w["floors"]:
            any_floor = True
            out.append(f"- {w['workload']}: {f['text']}")
    if not any_floor:
        out.append("(none reported)")
    out += ["", "## Agreement", ""]
    for w in workloads:
        ag = w["agreement"]
        out.append(f"- **{w['workload']}**: {w['status']}. Tolerance: {ag['tolerance'] or 'none stated'}.")
        for c in ag["checks"]:
            out.append(f"  - {c}")
    out += ["", "## Charts", ""]
    if chart_note:
        out.append(chart_note)
    else:
        out += [f"![median time per tool]({base}-time.png)", "", f"![time over the read+decode floor]({base}-floor.png)"]
    out += ["", "## Workloads in detail", ""]
    for w in workloads:
        md = w.get("markdown") or os.path.join(a.run_dir, f"{w['workload']}.md")
        if md and os.path.exists(md):
            with open(md) as fh:
                text = fh.read()
            out += [demote_headings(text).rstrip(), ""]
        else:
            out += [f"### {w['workload']}", "", f"(no results file: {w['status']})", ""]
    with open(f"{a.out}.md", "w") as fh:
        fh.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
