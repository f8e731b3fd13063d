#!/usr/bin/env bash
# Runs `obliviate demo` once per registered method on a small subset (a smoke check that every
# method fits the demo's data on the real model); prints one line per method.
set -u
out=${1:-/tmp/demo-every-method}
mkdir -p "$out"
for m in $(.venv/bin/python -c "from obliviate.methods import METHODS; print(' '.join(METHODS.names()))"); do
  [ "$m" = sft ] && continue
  start=$(date +%s)
  if .venv/bin/obliviate demo --method "$m" --limit 4 --steps 2 --out "$out/$m" > "$out/$m.log" 2>&1; then
    status=ok
  else
    status="FAILED: $(tail -n 1 "$out/$m.log")"
  fi
  echo "$m $(( $(date +%s) - start ))s $status"
done
