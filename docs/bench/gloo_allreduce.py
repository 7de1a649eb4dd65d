#!/usr/bin/env python3
"""PyTorch Gloo all-reduce between two processes on this host: the baseline that
`bin/siameseim bench --only allreduce --official` runs beside ours (docs/distributed.md, "Throughput and scaling").

Same protocol as our benchmark: float32 buffers of 1, 4, 16, 64 and 256 MiB (--sizes), one intra-op
thread per process, max(3, calls / 4) warm-up calls, the median of `calls` timed calls (each after a
barrier), calls = max(7, min(101, 128 / MiB) rounded up to odd): 101 for 1 MiB, 33 for 4, 9 for 16, 7 from 64, bus
bandwidth = size x 2 (N - 1) / N / time. Needs PyTorch with Gloo (Debian: apt install
python3-torch; run it with /usr/bin/python3). Loopback TCP only. Prints one JSON line per size:
{"mib", "ms" (median), "bus_gib_s", "processes", "torch"}.

    /usr/bin/python3 docs/bench/gloo_allreduce.py [--port 29533] [--sizes 1,4,16,64,256]
"""
import argparse
import json
import statistics
import subprocess
import sys
import time

WORLD = 2


def timed_calls(mib, repeats=7):
    """As AllReduceBenchmark.timedCalls: more calls for small buffers, whose single calls vary most."""
    return max(repeats, min(101, 128 // max(1, mib)) | 1)


def worker(rank, port, sizes_mib):
    import torch
    import torch.distributed as dist

    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=WORLD)
    for mib in sizes_mib:
        x = torch.ones(mib * 1024 * 1024 // 4)
        calls = timed_calls(mib)
        for _ in range(max(3, calls // 4)):
            dist.all_reduce(x)
        times = []
        for _ in range(calls):
            dist.barrier()
            start = time.perf_counter()
            dist.all_reduce(x)
            times.append(time.perf_counter() - start)
        t = statistics.median(times)
        if rank == 0:
            bus = mib / 1024 * 2 * (WORLD - 1) / WORLD / t
            print(json.dumps({"mib": mib, "ms": round(t * 1e3, 3), "bus_gib_s": round(bus, 3), "processes": WORLD,
                              "torch": torch.__version__}), flush=True)
    dist.destroy_process_group()


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--port", type=int, default=29533)
    p.add_argument("--sizes", default="1,4,16,64,256", help="MiB, comma separated")
    p.add_argument("--rank", type=int, default=None, help=argparse.SUPPRESS)
    o = p.parse_args()
    sizes = [int(s) for s in o.sizes.split(",")]
    if o.rank is not None:
        worker(o.rank, o.port, sizes)
    else:
        procs = [subprocess.Popen([sys.executable, __file__, "--rank", str(r), "--port", str(o.port),
                                   "--sizes", o.sizes]) for r in range(WORLD)]
        sys.exit(max(p.wait() for p in procs))
