#!/usr/bin/env bash
# GPU checks (mixed-precision penalty, short 16-/bf16-mixed fits, steps/s); < 5 minutes.
# Run from the repository root on a CUDA machine with requirements.txt installed.
set -euo pipefail
cd "$(dirname "$0")/../.."
PYTHONUNBUFFERED=1 python tests/gpu/check.py "$@"
