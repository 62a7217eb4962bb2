"""Network throughput: positions/s of the raw forward pass, or with --train samples/s of
forward + backward + optimizer step; with --evaluator, positions/s through TorchEvaluator
(numpy uint8 in, numpy float32 out). Prints one JSON line; per_cpu_second (positions or
samples per process CPU-second) estimates what idle cores would give on a shared machine.

    python benchmarks/nn_forward.py --size 9 --tag b6c64 --batch 64 --seconds 5 [--device cpu]

With --backends, each inference runtime (torch, openvino, onnxruntime: goengine.nn.backends)
evaluates the same checkpoint through the Evaluator interface, taking turns in short rounds so
that a noisy neighbour slows them all alike, and prints one JSON line per runtime with its
ratio to torch. --suite does that for the three networks that matter here: b4c48 9x9 batch 128
(the 9x9-quick net), b6c64 9x9 batch 256 and b6c64 19x19 batch 64.

    python benchmarks/nn_forward.py --suite --threads 2
    python benchmarks/nn_forward.py --backends torch,openvino --size 19 --tag b6c64 --batch 64
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

# goengine.nn before torch: it sets OpenMP's spin count, which is read when torch loads
from goengine.nn import NetConfig, TorchEvaluator, build_network, physical_cores  # isort: skip
from goengine.cli_aliases import add_alias  # noqa: E402
import numpy as np
import torch


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--size", type=int, default=9)
    p.add_argument("--tag", default="b6c64")
    p.add_argument("--kind", default="policy_value", choices=["policy", "value", "policy_value"])
    p.add_argument("--in-planes", type=int, default=18)
    p.add_argument("--global-pooling", type=int, default=0)
    p.add_argument("--batch-size", type=int, default=64)
    add_alias(p, "--batch", "batch_size", type=int)
    p.add_argument("--seconds", type=float, default=5.0)
    p.add_argument("--device", default="cpu")
    p.add_argument("--threads", type=int, default=None, help="default: physical cores")
    p.add_argument("--bf16", action="store_true", help="bf16 autocast (CPU or CUDA)")
    p.add_argument("--channels-last", action="store_true")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--train", action="store_true", help="forward+backward+step samples/s")
    mode.add_argument("--evaluator", action="store_true", help="through TorchEvaluator")
    mode.add_argument("--backends", default=None, help="compare runtimes, e.g. torch,openvino,onnxruntime")
    p.add_argument("--suite", action="store_true", help="compare every installed runtime on three networks")
    p.add_argument("--precision", default=None, choices=("fp32", "bf16"),
                   help="with --backends: fp32 (default) or bf16 where the runtime has it")
    p.add_argument("--rounds", type=int, default=5, help="with --backends: rounds of --seconds/rounds each")
    return p.parse_args()


def compare_backends(tag: str, size: int, batch: int, backends: list[str], threads: int,
                     seconds: float, rounds: int, precision=None, in_planes: int = 18,
                     kind: str = "policy_value", global_pooling: int = 0) -> list[dict]:
    """positions/s of each runtime on one checkpoint (random weights, ownership head as in the
    training presets), interleaved in `rounds` rounds."""
    import tempfile

    from goengine.nn import load_evaluator, save_checkpoint

    config = NetConfig.from_tag(tag, kind=kind, in_planes=in_planes, board_sizes=(size,),
                                global_pooling=global_pooling, ownership=kind == "policy_value")
    folder = tempfile.mkdtemp(prefix="nn-forward-")
    save_checkpoint(f"{folder}/net", build_network(config), config)
    evaluators = {b: load_evaluator(f"{folder}/net", backend=b, device="cpu", threads=threads,
                                    precision=precision) for b in backends}
    features = (np.random.default_rng(0).random((batch, in_planes, size, size)) < 0.3).astype(np.uint8)
    totals = {b: [0, 0.0, 0.0] for b in backends}  # positions, wall seconds, cpu seconds
    for e in evaluators.values():
        for _ in range(2):
            e.evaluate(features)
    for _ in range(rounds):
        for b, e in evaluators.items():
            start, cpu = time.perf_counter(), time.process_time()
            while time.perf_counter() - start < seconds / rounds:
                e.evaluate(features)
                totals[b][0] += batch
            totals[b][1] += time.perf_counter() - start
            totals[b][2] += time.process_time() - cpu
    base = totals["torch"][0] / totals["torch"][1] if "torch" in totals else None
    lines = []
    for b, (positions, wall, cpu) in totals.items():
        rate = positions / wall
        lines.append({"benchmark": "nn_forward", "mode": "backends", "backend": b,
                      "runtime": evaluators[b].description, "tag": tag, "size": size,
                      "batch": batch, "threads": threads, "positions_per_s": round(rate, 1),
                      "per_cpu_second": round(positions / max(cpu, 1e-9), 1),
                      "ratio_to_torch": round(rate / base, 2) if base else None})
    return lines


def timed(step, device: torch.device, seconds: float) -> tuple[int, float, float]:
    """Run step() repeatedly for about `seconds` after a warm-up;
    (iterations, wall seconds, process CPU seconds)."""
    for _ in range(3):
        step()
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    sync()
    iterations, start, cpu_start = 0, time.perf_counter(), time.process_time()
    while True:
        step()
        iterations += 1
        if iterations % 4 == 0 or device.type != "cuda":
            sync()
            elapsed = time.perf_counter() - start
            if elapsed >= seconds:
                return iterations, elapsed, time.process_time() - cpu_start


def main() -> None:
    args = parse_args()
    threads = args.threads or physical_cores()
    if args.backends or args.suite:
        from goengine.nn.backends import installed

        backends = (args.backends.split(",") if args.backends else
                    [b for b in ("torch", "openvino", "onnxruntime") if installed(b)])
        if args.precision == "bf16" and "onnxruntime" in backends:
            print("onnxruntime runs in fp32 only: left out of a bf16 comparison", file=sys.stderr)
            backends.remove("onnxruntime")
        cases = ([("b4c48", 9, 128), ("b6c64", 9, 256), ("b6c64", 19, 64)] if args.suite
                 else [(args.tag, args.size, args.batch_size)])
        for tag, size, batch in cases:
            for line in compare_backends(tag, size, batch, backends, threads, args.seconds, args.rounds,
                                         args.precision, args.in_planes, args.kind, args.global_pooling):
                print(json.dumps(line), flush=True)
        return
    device = torch.device(args.device)
    torch.set_num_threads(threads)
    config = NetConfig.from_tag(args.tag, kind=args.kind, in_planes=args.in_planes,
                                board_sizes=(args.size,), global_pooling=args.global_pooling)
    model = build_network(config).to(device)
    memory_format = torch.channels_last if args.channels_last else torch.contiguous_format
    model = model.to(memory_format=memory_format)
    rng = np.random.default_rng(0)
    features = (rng.random((args.batch_size, args.in_planes, args.size, args.size)) < 0.3).astype(np.uint8)
    x = torch.from_numpy(features).to(device).float().contiguous(memory_format=memory_format)
    autocast = torch.autocast(device.type, dtype=torch.bfloat16, enabled=args.bf16)
    num_actions = args.size * args.size + 1

    if args.evaluator:
        evaluator = TorchEvaluator(model, config, device=device, threads=threads, bf16=args.bf16)

        def step():
            evaluator.evaluate(features)
        mode = "evaluator"
    elif args.train:
        model.train()
        optimizer = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9, weight_decay=1e-4)
        policy_target = torch.from_numpy(rng.integers(0, num_actions, args.batch_size)).to(device)
        value_target = torch.from_numpy(rng.uniform(-1, 1, args.batch_size).astype(np.float32)).to(device)

        def step():
            with autocast:
                out = model(x)
                loss = torch.zeros((), device=device)
                if out.policy_logits is not None:
                    loss = loss + torch.nn.functional.cross_entropy(out.policy_logits.float(),
                                                                    policy_target)
                if out.value is not None:
                    loss = loss + torch.nn.functional.mse_loss(out.value.float(), value_target)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        mode = "train"
    else:
        model.eval()

        def step():
            with torch.inference_mode(), autocast:
                model(x)
        mode = "forward"

    iterations, elapsed, cpu_seconds = timed(step, device, args.seconds)
    rate = iterations * args.batch_size / elapsed
    print(json.dumps({
        "benchmark": "nn_forward", "mode": mode, "tag": config.tag, "kind": args.kind,
        "size": args.size, "batch": args.batch_size, "device": str(device),
        "device_name": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
        "bf16": args.bf16, "channels_last": args.channels_last, "threads": threads,
        "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY"),
        "gomp_spincount": os.environ.get("GOMP_SPINCOUNT"),
        "iterations": iterations, "seconds": round(elapsed, 3),
        ("samples_per_s" if args.train else "positions_per_s"): round(rate, 1),
        # on a shared machine, work per CPU-second shows what idle cores would do
        "cpu_seconds": round(cpu_seconds, 3),
        "per_cpu_second": round(iterations * args.batch_size / cpu_seconds, 1),
        "torch": torch.__version__,
    }))


if __name__ == "__main__":
    main()
