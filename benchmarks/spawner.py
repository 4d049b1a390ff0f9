"""Start benchmark commands from a small process, so their peak memory is their own.

Linux gives a child the high-water RSS of the memory it was forked from: a
command started by a process that once held 200 MB reports at least 200 MB as
its max RSS (``os.wait4``), even ``python -c pass``. benchmarks/run.py holds
whole registries in memory, so it starts this process first, while it is
still small, and has it start every timed command. One request per line on
stdin, one answer per line on stdout (JSON):

    {"argv": [...], "env": {...}, "cwd": "...", "out": "stdout file", "err": "stderr file"}
    {"elapsed": seconds, "rss_kb": max RSS of the command, "code": exit code}
"""

import json
import os
import subprocess
import sys
import time


def main() -> None:
    for line in sys.stdin:
        req = json.loads(line)
        with open(req["out"], "wb") as sink, open(req["err"], "wb") as errs:
            start = time.perf_counter()
            try:
                proc = subprocess.Popen(req["argv"], stdout=sink, stderr=errs, stdin=subprocess.DEVNULL,
                                        env=req["env"], cwd=req["cwd"])
            except OSError as exc:  # a missing program: report it like a shell would
                errs.write(f"{req['argv'][0]}: {exc.strerror}\n".encode())
                answer = {"elapsed": 0.0, "rss_kb": 0, "code": 127}
            else:
                _, status, usage = os.wait4(proc.pid, 0)
                elapsed = time.perf_counter() - start
                answer = {"elapsed": elapsed, "rss_kb": usage.ru_maxrss, "code": os.waitstatus_to_exitcode(status)}
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
