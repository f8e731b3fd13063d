#!/usr/bin/env bash
# Mutation testing of the loss functions and the metrics (mutmut 3, from PyPI). Not part of CI:
# it takes tens of minutes on a laptop. Usage:
#
#   scripts/mutation.sh [losses|metrics|methods|all|PATH.py] [max-children]
#
# PATH.py is one file under src/obliviate (e.g. src/obliviate/evaluation/metrics/mia.py), or
# several in one quoted, space-separated argument; it is tested with the metric tests when it is
# a metric file and with the loss tests otherwise. MUTATION_TESTS (space-separated test files)
# replaces that test selection; MUTATION_TIMEOUT_MULTIPLIER sets mutmut's timeout_multiplier.
#
# It works in a scratch copy (never in the checkout): copies src/, tests/ and pyproject.toml,
# writes a setup.cfg [mutmut] section that mutates only the chosen files and runs only the fast
# unit tests that exercise them, then prints mutmut's counts per file and lists the survivors.
# Needs: pip install mutmut (3.x). Set PYTHON to the interpreter that has obliviate's deps.
# MUTATION_DIR=DIR re-uses a scratch folder; TIMEOUT_MULTIPLIER=N raises mutmut's time limit.
set -euo pipefail

target="${1:-all}"
children="${2:-2}"
root="$(cd "$(dirname "$0")/.." && pwd)"
python="${PYTHON:-python}"
mutmut="$(dirname "$("$python" -c 'import sys; print(sys.executable)')")/mutmut"
work="${MUTATION_DIR:-$(mktemp -d /tmp/obliviate-mutation.XXXXXX)}"

losses_files="src/obliviate/methods/losses.py"
losses_tests="tests/unit/test_losses.py tests/unit/test_losses_families.py
tests/unit/test_losses_new_methods.py tests/unit/test_methods_formulas.py
tests/unit/test_methods_dpo_idk.py tests/unit/test_methods_ce_u.py
tests/unit/test_methods_satimp.py tests/unit/test_methods_pdu.py tests/unit/test_methods_rmu.py
tests/unit/test_losses_shapes.py"
methods_files="src/obliviate/methods/*.py"
methods_tests="$losses_tests tests/unit/test_methods_*.py"
metrics_files="src/obliviate/evaluation/metrics/*"
metrics_tests="tests/unit/test_metric_*.py tests/unit/test_eval_*.py tests/unit/test_assessment.py
tests/unit/test_muse_protocol.py tests/unit/test_mc_prompt_lm_eval.py tests/unit/test_parity_tofu.py"

case "$target" in
  losses)  files="$losses_files";  tests="$losses_tests" ;;
  methods) files="$methods_files"; tests="$methods_tests" ;;
  metrics) files="$metrics_files"; tests="$metrics_tests" ;;
  all)     files="$losses_files $metrics_files"; tests="$losses_tests $metrics_tests" ;;
  src/obliviate/evaluation/metrics/*.py) files="$target"; tests="$metrics_tests" ;;
  src/obliviate/*.py) files="$target"; tests="$methods_tests" ;;
  *) echo "usage: $0 [losses|metrics|methods|all|src/obliviate/PATH.py] [max-children]" >&2; exit 2 ;;
esac

tests="${MUTATION_TESTS:-$tests}"  # e.g. only the unit tests of the chosen files (faster)

mkdir -p "$work"
cp -r "$root/src" "$root/tests" "$root/pyproject.toml" "$work/"
{
  echo "[mutmut]"
  echo "source_paths=src/obliviate"
  echo "only_mutate="
  for f in $files; do echo "    $f"; done
  printf 'pytest_add_cli_args=\n    -p\n    no:cacheprovider\n' 
  echo "pytest_add_cli_args_test_selection="
  for t in $tests; do echo "    $t"; done
  # mutmut's per-mutant time limit is (test time + 1 s) x this multiplier; on a loaded machine
  # set MUTATION_TIMEOUT_MULTIPLIER=60 or so (TIMEOUT_MULTIPLIER is accepted too), else slow
  # mutants count as "timeout" (killed) untested.
  multiplier="${MUTATION_TIMEOUT_MULTIPLIER:-${TIMEOUT_MULTIPLIER:-}}"
  if [ -n "$multiplier" ]; then echo "timeout_multiplier=$multiplier"; fi
  echo "process_isolation=forkserver"
} > "$work/setup.cfg"

mkdir -p "$work/mutants/src"  # on sys.path from the start (Python caches missing path entries)
cd "$work"
echo "mutation run in $work (target: $target)"
OMP_NUM_THREADS=1 PYTHONPATH="$work/mutants/src:$work/mutants" "$mutmut" run --max-children "$children" || true
OMP_NUM_THREADS=1 PYTHONPATH="$work/mutants/src:$work/mutants" "$mutmut" export-cicd-stats >/dev/null || true
"$python" - "$work" <<'PY'
import json, sys
from pathlib import Path
from collections import Counter, defaultdict
from mutmut.stats import status_by_exit_code

work = Path(sys.argv[1])
per_file = defaultdict(Counter)
for meta in (work / "mutants").rglob("*.py.meta"):
    data = json.loads(meta.read_text())
    source = str(meta.relative_to(work / "mutants"))[:-len(".meta")]
    for name, code in data.get("exit_code_by_key", {}).items():
        status = status_by_exit_code[code]
        per_file[source][status] += 1
for source in sorted(per_file):
    c = per_file[source]
    done = sum(c.values()) - c["not checked"]
    score = 100.0 * (c["killed"] + c["timeout"]) / done if done else 0.0
    print(f"{source}: {dict(c)}  killed {score:.1f}%")
PY
echo "survivors: cd $work && PYTHONPATH=$work/mutants/src $mutmut results"
