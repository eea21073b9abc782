#!/usr/bin/env bash
# The GPU check: one run on a machine with an NVIDIA GPU, at most ~8 minutes.
#
#   bash benchmarks/gpu_check.sh OUT [--cpu-rehearsal] [--wheels DIR] [--skip-tests] [--no-install]
#
# 1. installs minidl from this working tree without dependencies (the GPU
#    machine already has numpy, cupy, torch; nothing can be fetched there);
#    with --wheels DIR it first installs pytest and hypothesis from wheels
#    carried in DIR (make them here with `bash benchmarks/gpu_wheels.sh`);
# 2. runs the whole test suite with only the "cuda" variant of the device
#    fixture (CI covers "cpu" and "strict"): OUT/pytest.log holds the summary
#    and every failure, OUT/junit.xml each test;
# 3. runs benchmarks/gpu_bench.py (minidl on CuPy beside PyTorch CUDA):
#    OUT/bench.md is the table, OUT/bench.log the raw log;
# 4. writes OUT/summary.md: the environment, the pytest summary line, the
#    failing tests and the table.
#
# --cpu-rehearsal runs the same steps here on the CPU with the strict CuPy
# stand-in ("strict" instead of "cuda"), so the only unknown left for the GPU
# is the GPU (--skip-tests leaves step 2 out of a quick rehearsal: CI runs
# the strict variant of every test anyway; --no-install uses the working tree through
# PYTHONPATH and leaves the Python environment alone, as tests/test_gpu_check.py does). Each step has its own time limit and a failing step does not
# stop the next one: every minute on the GPU machine should bring back data.
set -uo pipefail
cd "$(dirname "$0")/.."
out=${1:?usage: bash benchmarks/gpu_check.sh OUT [--cpu-rehearsal] [--wheels DIR]}
shift
device=cuda
wheels=
tests=1
install=1
while [ $# -gt 0 ]; do
  case "$1" in
    --cpu-rehearsal) device=strict ;;
    --wheels) wheels=$2; shift ;;
    --skip-tests) tests=0 ;;
    --no-install) install=0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
mkdir -p "$out"
PY=${PYTHON:-python3}
[ "$device" = strict ] && [ -x .venv/bin/python ] && PY=.venv/bin/python

step() { echo "== $(date -u +%H:%M:%S) $*" | tee -a "$out/steps.log"; }

step "1. install"
{
  [ -n "$wheels" ] && $PY -m pip install --no-index --find-links "$wheels" pytest hypothesis
  if [ $install = 1 ]; then
    $PY -m pip install --no-deps --no-build-isolation -e . || echo "pip install failed: using PYTHONPATH"
  fi
} > "$out/install.log" 2>&1
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
{
  nvidia-smi 2>/dev/null | head -15
  $PY - <<'PYEOF'
import platform, numpy
print("python", platform.python_version(), "numpy", numpy.__version__)
for name in ("cupy", "torch", "pytest", "hypothesis"):
    try:
        module = __import__(name)
        print(name, module.__version__)
    except Exception as error:
        print(name, "missing:", error)
import minidl
print("minidl", minidl.__version__, "from", minidl.__file__, "cuda available:", minidl.backend.cuda_is_available())
PYEOF
} > "$out/env.log" 2>&1
cat "$out/env.log"

step "2. test suite, device variant: $device"
[ $tests = 1 ] && MINIDL_TEST_DEVICES=$device timeout 300 $PY -m pytest -q -p no:cacheprovider -rfE \
  --junitxml="$out/junit.xml" > "$out/pytest.log" 2>&1
echo "pytest exit status: $? (tests=$tests)" >> "$out/pytest.log"
tail -n 3 "$out/pytest.log"

step "3. benchmark"
extra=()
[ "$device" = strict ] && extra=(--repeat 2 --epoch-images 2048 --zoo-batch 2)
timeout 150 $PY benchmarks/gpu_bench.py --device "$device" --out "$out" "${extra[@]}" > "$out/bench.log" 2>&1
echo "gpu_bench exit status: $?" >> "$out/bench.log"
tail -n 12 "$out/bench.log"

step "3b. NCCL: a one-rank all-reduce and broadcast through minidl.distributed (GPU only)"
if [ "$device" != strict ]; then
  timeout 60 $PY - > "$out/nccl.log" 2>&1 <<'PYEOF'
import cupy, minidl.distributed as d
comm = d.NCCLCommunicator(d.SingleProcess())  # one rank: no MPI needed to share NCCL's id
a = cupy.arange(6, dtype=cupy.float32)
comm.all_reduce(a); comm.broadcast(a); comm.barrier()
print("nccl one rank:", cupy.asnumpy(a).tolist() == list(range(6)), comm)
PYEOF
  echo "nccl exit status: $?" >> "$out/nccl.log"
  tail -n 3 "$out/nccl.log"
fi

step "4. summary"
{
  echo "# GPU check ($device), $(date -u +%Y-%m-%d\ %H:%M) UTC"
  echo; echo '```'; cat "$out/env.log"; echo '```'
  echo; echo "## Tests"; echo '```'; grep -E "passed|failed|error" "$out/pytest.log" | tail -n 1
  grep -E "^(FAILED|ERROR) " "$out/pytest.log" | head -n 100; echo '```'
  echo; echo "## Benchmark"; cat "$out/bench.md" 2>/dev/null || echo "(no table: see bench.log)"
  echo; echo "## NCCL"; echo '```'; cat "$out/nccl.log" 2>/dev/null || echo "(not run)"; echo '```'
} > "$out/summary.md"
step "done: $out/summary.md"
