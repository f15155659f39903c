#!/usr/bin/env python3
"""Write one workload's results as JSON for the benchmark suite (bench/run).

    suite_json.py --out W.json --workload NAME --script PATH --tools TOOLS.tsv
                  --verdict agreed|differs|unchecked --tolerance TEXT [--check LINE ...]
                  [--floor LINE ...] [--dataset TEXT] [--markdown PATH]

TOOLS.tsv has one line per tool: group, tool, runs in seconds (space-separated), peak RSS
in kB per run (space-separated), failure text (empty when it ran). A tool's role comes from
its name: reclaim* and baseline* are reclaim, io_floor* the read+decode floor, anything else
a peer. When the verdict is not "agreed" no time is written: a time of tools that did not
do the same work is not a result.
"""
import argparse
import json
import re
import statistics

FLOOR_LINE = re.compile(r"^- (?P<name>.+?): (?P<value>[0-9.]+)x?, (?:floor|ceiling) (?P<op>>=|<=|<)? ?(?P<need>[0-9.]+)x?: (?P<met>MET|NOT MET)")


def role(tool):
    if tool.startswith(("reclaim", "baseline")):
        return "reclaim"
    if tool.startswith("io_floor") or tool == "floor":
        return "floor"
    return "peer"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--workload", required=True)
    ap.add_argument("--script", required=True)
    ap.add_argument("--tools", required=True)
    ap.add_argument("--verdict", required=True, choices=["agreed", "differs", "unchecked"])
    ap.add_argument("--tolerance", required=True)
    ap.add_argument("--check", action="append", default=[])
    ap.add_argument("--floor", action="append", default=[])
    ap.add_argument("--dataset", default="")
    ap.add_argument("--markdown", default="")
    a = ap.parse_args()

    report_times = a.verdict == "agreed"
    tools = []
    with open(a.tools) as fh:
        for line in fh:
            if not line.strip():
                continue
            group, tool, runs, rss, fail = (line.rstrip("\n").split("\t") + [""] * 5)[:5]
            runs_s = [float(x) for x in runs.split()]
            rss_kb = [int(x) for x in rss.split()]
            tools.append({
                "group": group, "tool": tool, "role": role(tool),
                "runs_s": runs_s if report_times else [],
                "median_s": statistics.median(runs_s) if runs_s and report_times else None,
                "peak_rss_mb": round(max(rss_kb) / 1024, 1) if rss_kb and report_times else None,
                "failed": fail or None,
            })
    floors = []
    for text in a.floor:
        text = text.strip()
        if not text:
            continue
        m = FLOOR_LINE.match(text)
        floors.append({"text": text.lstrip("- "),
                       "value": float(m["value"]) if m and report_times else None,
                       "met": (m["met"] == "MET") if m and report_times else None})
    doc = {
        "workload": a.workload, "script": a.script, "dataset": a.dataset, "markdown": a.markdown,
        "agreement": {"verdict": a.verdict, "tolerance": a.tolerance, "checks": [c for c in a.check if c.strip()]},
        "tools": tools, "floors": floors if report_times else [],
    }
    with open(a.out, "w") as fh:
        json.dump(doc, fh, indent=1)
        fh.write("\n")


if __name__ == "__main__":
    main()
