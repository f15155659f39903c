#!/usr/bin/python3
"""Run one command; report its wall time and peak resident memory.

    measure.py --log FILE -- CMD [ARG...]

Prints one line, `wall_s=<float> max_rss_kb=<int> rc=<int>`, and writes the command's
stdout and stderr to FILE. Peak RSS is getrusage(RUSAGE_CHILDREN).ru_maxrss after the
child is reaped: the largest resident set of the command or of any descendant it waited
for (a Python tool's worker processes included), which is what /usr/bin/time -v reports,
without depending on the `time` package or parsing its output.
"""
import argparse
import resource
import subprocess
import sys
import time


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--log", required=True)
    parser.add_argument("cmd", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    cmd = args.cmd[1:] if args.cmd and args.cmd[0] == "--" else args.cmd
    if not cmd:
        parser.error("no command")
    with open(args.log, "w") as log:
        start = time.perf_counter()
        rc = subprocess.call(cmd, stdout=log, stderr=subprocess.STDOUT)
        wall = time.perf_counter() - start
    rss_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # kilobytes on Linux
    print(f"wall_s={wall:.3f} max_rss_kb={rss_kb} rc={rc}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
