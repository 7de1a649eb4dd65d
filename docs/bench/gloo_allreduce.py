#!/usr/bin/env python3
"""PyTorch Gloo all-reduce between two processes on this host: the baseline that
`bin/siameseim bench --only allreduce` is compared with in README.md and docs/distributed.md.

Same protocol as our benchmark: float32 buffers of 1, 4, 16, 64 and 256 MiB, one intra-op
thread per process, two warm-up calls, median of 7 timed calls (each after a barrier), bus
bandwidth = size x 2 (N - 1) / N / time. Needs PyTorch with Gloo (Debian: apt install
python3-torch; run it with /usr/bin/python3). Loopback TCP only.

    python3 docs/bench/gloo_allreduce.py [port]
"""
import statistics
import subprocess
import sys
import time

SIZES_MIB = (1, 4, 16, 64, 256)
WORLD = 2


def worker(rank, port):
    import torch
    import torch.distributed as dist

    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=WORLD)
    for mib in SIZES_MIB:
        x = torch.ones(mib * 1024 * 1024 // 4)
        for _ in range(2):
            dist.all_reduce(x)
        times = []
        for _ in range(7):
            dist.barrier()
            start = time.perf_counter()
            dist.all_reduce(x)
            times.append(time.perf_counter() - start)
        t = statistics.median(times)
        if rank == 0:
            bus = mib / 1024 * 2 * (WORLD - 1) / WORLD / t
            print(f"gloo all-reduce {mib:4d} MiB (torch {torch.__version__}, {WORLD} processes): "
                  f"{t * 1e3:8.2f} ms, bus bandwidth {bus:.2f} GiB/s", flush=True)
    dist.destroy_process_group()


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--rank":
        worker(int(sys.argv[2]), int(sys.argv[3]))
    else:
        port = int(sys.argv[1]) if len(sys.argv) > 1 else 29533
        procs = [subprocess.Popen([sys.executable, __file__, "--rank", str(r), str(port)]) for r in range(WORLD)]
        sys.exit(max(p.wait() for p in procs))
