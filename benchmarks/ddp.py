"""The cost of DDP with unused-parameter detection, on CPU (gloo).

    python benchmarks/ddp.py      # about 2 minutes on a 2-core CPU

Runs `train.py` for the same number of critic steps per process, each process with one
thread, once as a single process and once as 2 DDP processes (each its own core), and
prints critic steps/s per process: the ratio is what DDP — all-reduce of both networks'
gradients plus the autograd-graph walk of find_unused_parameters — costs per step.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def rate(devices: int, width: int, batch: int, generator_steps: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "OMP_NUM_THREADS": "1", "WANDB_MODE": "disabled",
               "PYTHONPATH": f"{REPO}{os.pathsep}{REPO / 'benchmarks'}"}
        out = Path(tmp) / "rate.json"
        subprocess.run(
            [sys.executable, str(REPO / "train.py"), "--trainer.accelerator", "cpu", "--trainer.devices", str(devices),
             "--generator_steps", str(generator_steps), "--eval_every", str(10**9), "--trainer.logger", "false",
             "--trainer.enable_progress_bar", "false", "--model.generator.init_args.width", str(width),
             "--model.critic.init_args.width", str(width), "--data.init_args.batch_size", str(batch),
             "--data.init_args.val_size", "200", "--trainer.callbacks+=bench.StepTimer", "--trainer.callbacks.warmup=50",
             f"--trainer.callbacks.out={out}", "--run_dir", str(Path(tmp) / "run")],
            check=True, env=env, cwd=tmp, capture_output=True,
        )
        return json.loads(out.read_text())["rate"]


def main() -> None:
    print(f"{'size':24s} {'1 process':>10s} {'2 DDP':>10s} {'ratio':>7s}   (critic steps/s per process, 1 thread each)")
    result = {}
    for name, width, batch, steps in (("toy (512, 256)", 512, 256, 80), ("tiny (64, 64)", 64, 64, 400)):
        single, ddp = rate(1, width, batch, steps), rate(2, width, batch, steps)
        result[name] = round(ddp / single, 3)
        print(f"{name:24s} {single:10.1f} {ddp:10.1f} {ddp / single:7.3f}")
    print(json.dumps({"ddp_vs_single_per_process": result}))


if __name__ == "__main__":
    main()
