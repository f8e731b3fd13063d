#!/usr/bin/env bash
# Adds DeepSpeed to .venv (after scripts/setup.sh) for ZeRO-2 / ZeRO-3 on CPU processes
# (docs/scaling.md, "DeepSpeed on CPUs"): its dependencies first (none of them pulls torch), then
# DeepSpeed itself without dependencies or build isolation (its setup imports the installed
# torch; isolated, it would fetch another) and without building any op ahead. Then it compiles
# the one op a CPU run needs, DeepSpeed's shared-memory all-reduce (deepspeed_shm_comm, about a
# minute with one free core), into torch's extension cache (~/.cache/torch_extensions), so that
# the first run does not. Idempotent: a second run only checks.
set -euo pipefail
cd "$(dirname "$0")/.."
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1 DS_ACCELERATOR=cpu
pip() { .venv/bin/python -m pip "$@"; }
echo "setup: installing DeepSpeed for CPUs"
pip install -q einops hjson msgpack ninja py-cpuinfo "pydantic>=2" psutil packaging tqdm
DS_BUILD_OPS=0 pip install -q --no-deps --no-build-isolation "deepspeed==0.19.8"
echo "setup: building DeepSpeed's shared-memory op (once)"
MAX_JOBS=${MAX_JOBS:-1} .venv/bin/python -c "from deepspeed.accelerator import get_accelerator
get_accelerator().create_op_builder('ShareMemCommBuilder').load()"
echo "setup: DeepSpeed ready"
