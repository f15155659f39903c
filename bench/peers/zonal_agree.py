#!/usr/bin/env python3
"""Compare two per-zone CSVs by id: reclaim's (columns <prefix>_count ...) and a peer's.

    zonal_agree.py --reclaim R.csv --peer P.csv --id-field site_id [--tol-rel X] [--tol-extreme Y] [--same-counts]

Prints one line: zones compared, zones with a different count (exact integers when both are
whole numbers), and for each of count, sum, mean, min, max, stddev the largest relative
difference |a - b| / max(|a|, |b|, 1e-12) over zones where both have a value. A zone one
side leaves empty and the other does not is counted as "empty_mismatch".

The line ends with verdict=agreed when every id is matched, no zone is empty on one side only,
min and max agree within --tol-extreme, the other statistics within --tol-rel, and (with
--same-counts) every count is equal; verdict=differs otherwise.
"""
import argparse
import csv


def load(path, id_field):
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    out = {}
    for r in rows:
        d = {}
        for k, v in r.items():
            if k == id_field:
                continue
            name = k.split("_", 1)[1] if "_" in k and k.split("_", 1)[0] not in ("count",) else k
            name = {"stdev": "stddev"}.get(name, name)
            d[name] = float(v) if v not in ("", None) else None
        out[r[id_field]] = d
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reclaim", required=True)
    ap.add_argument("--peer", required=True)
    ap.add_argument("--id-field", default="site_id")
    ap.add_argument("--tol-rel", type=float, default=1e-6)
    ap.add_argument("--tol-extreme", type=float, default=1e-12)
    ap.add_argument("--same-counts", action="store_true")
    a = ap.parse_args()
    r = load(a.reclaim, a.id_field)
    p = load(a.peer, a.id_field)
    ids = sorted(set(r) & set(p))
    missing = len(set(r) ^ set(p))
    stats = ["count", "sum", "mean", "min", "max", "stddev"]
    worst = {s: 0.0 for s in stats}
    count_diff = empty_mismatch = 0
    for i in ids:
        for s in stats:
            x, y = r[i].get(s), p[i].get(s)
            if s != "count" and (x is None) != (y is None):
                # an empty zone: no value on one side, count 0 the other way round is fine
                if (r[i].get("count") or 0) == 0 and (p[i].get("count") or 0) == 0:
                    continue
                empty_mismatch += 1
                continue
            if x is None or y is None:
                continue
            d = abs(x - y) / max(abs(x), abs(y), 1e-12)
            worst[s] = max(worst[s], d)
        if r[i].get("count") != p[i].get("count"):
            count_diff += 1
    agreed = (missing == 0 and empty_mismatch == 0 and len(ids) > 0
              and (count_diff == 0 or not a.same_counts)
              and all(worst[s] <= (a.tol_extreme if s in ("min", "max") else a.tol_rel) for s in stats))
    print(f"zones={len(ids)} unmatched_ids={missing} count_differs={count_diff} empty_mismatch={empty_mismatch} "
          + " ".join(f"max_rel_{s}={worst[s]:.2e}" for s in stats)
          + f" verdict={'agreed' if agreed else 'differs'}")


if __name__ == "__main__":
    main()
