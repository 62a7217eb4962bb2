"""Process-level settings for torch on the CPU, applied before torch is first imported.

torch's CPU kernels run on GNU OpenMP, whose idle threads spin for about 300,000 iterations
before sleeping. That is disastrous when the process shares its cores with other busy
processes (self-play workers, searches, test runs): on 2 cores beside other work, b6c64 9x9
batch-64 forward passes with 2 threads fell to 40-80 positions/s, against about 390 with a
spin count of 1000 (or with passive waiting). On idle cores a spin count of 1000 cost 2-17%
(2 threads) and about 10% (16 threads), passive waiting 25-65%. So, unless the caller chose a
policy (OMP_WAIT_POLICY or GOMP_SPINCOUNT in the environment), GOMP_SPINCOUNT is set to 1000.
OpenMP reads it once, when torch is imported, so this must run first: a program that imported
torch earlier has to set it itself.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

SPIN_COUNT = "1000"

if "torch" not in sys.modules and not ({"OMP_WAIT_POLICY", "GOMP_SPINCOUNT"} & set(os.environ)):
    os.environ["GOMP_SPINCOUNT"] = SPIN_COUNT


def native_bf16() -> bool:
    """Whether this CPU computes bf16 natively (AVX-512 BF16 or AMX): there bf16 autocast
    trains these networks about 1.8x faster per CPU-second than fp32 (benchmarks/nn_forward.py
    --train --bf16); elsewhere it would be emulated, and slower. Read from Linux's cpuinfo;
    False where that is not available."""
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    return bool({"avx512_bf16", "amx_bf16"} & flags)
    except OSError:
        pass
    return False


def physical_cores() -> int:
    """Physical cores among the CPUs this process may run on (hyper-threads counted once)."""
    try:
        cpus = os.sched_getaffinity(0)
    except AttributeError:
        return os.cpu_count() or 1
    cores = set()
    for cpu in cpus:
        topology = Path(f"/sys/devices/system/cpu/cpu{cpu}/topology")
        try:
            cores.add(((topology / "physical_package_id").read_text().strip(),
                       (topology / "core_id").read_text().strip()))
        except OSError:
            return len(cpus)
    return max(1, len(cores))
