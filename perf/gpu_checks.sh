#!/usr/bin/env bash
# The GPU figures of README "Performance and scale" in one run of about 8 minutes on one H100 or
# H200, from the repository root:
#
#     bash perf/gpu_checks.sh [OUT]        # OUT: where the CSVs and the log go (results/perf)
#
# Needs python3 with torch (CUDA) and numpy, pyyaml, jsonschema, safetensors and tqdm; without
# internet, install those first from a wheel folder carried along:
#     python3 -m pip install --no-index --find-links WHEELS numpy pyyaml jsonschema safetensors tqdm
# Each step has its own time limit, so one that hangs or fails leaves the others their time; the
# summary at the end says which failed.
set -uo pipefail
PY=${PYTHON:-python3}
OUT=${1:-results/perf}
PAPER=workflow/config/paper.yaml
mkdir -p "$OUT"
exec > >(tee "$OUT/gpu_checks.log") 2>&1

if ! $PY -c "import torch, numpy, yaml, jsonschema, safetensors, tqdm; assert torch.cuda.is_available()"; then
    echo "needs CUDA and: numpy pyyaml jsonschema safetensors tqdm (see the top of $0)"
    exit 2
fi
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
git rev-parse --short HEAD 2>/dev/null || true
failed=()
step() {  # step SECONDS COMMAND...: run with a limit, note a failure, go on
    local limit=$1
    shift
    echo "== $* (limit ${limit} s)"
    local start=$SECONDS
    timeout "$limit" "$@" || failed+=("$*")
    echo "== $((SECONDS - start)) s"
}

# 1. the fast path syncs with the host at log and checkpoint steps only (paper widths)
step 90 $PY -m perf.gpu_sync --steps 30 --log-every 10
# 2. training at the paper's sizes: plain (the reference), fast, fast + torch.compile
T="$PY -m perf.train --config $PAPER --steps 40 --warmup 10 --csv $OUT/train.csv"
step 90 $T --no-fast --compile off
step 60 $T --fast --compile off
step 150 $T --fast --compile default
# 3. translations per second, flow only (Euler 10 + 10), bf16
step 45 $PY -m perf.translate --config $PAPER --batch 8192 --repeats 3 --bf16
step 45 $PY -m perf.translate --config $PAPER --batch 32768 --repeats 3 --bf16
# 4. step time against width and batch (fast path, eager)
for w in 512 1152; do
    for b in 256 1024; do
        step 40 $PY -m perf.train --config $PAPER --fast --compile off --width $w --batch $b \
            --steps 20 --warmup 5 --csv "$OUT/train_sweep.csv"
    done
done

# 5. the fast path's loss curve against the plain one's over seeds, on the embedded default's
# latents when they were carried along (results/latents, from `snakemake --cores all encode`)
if [[ -f results/latents/train_ti.npz ]]; then
    step 200 $PY -m perf.fast_path --seeds 0 1 2 --device cuda --csv "$OUT/fast_path.csv"
else
    echo "== skipped the loss-curve comparison: no results/latents (carry it along)"
fi

echo "== summary"
if ((${#failed[@]})); then
    printf 'FAILED: %s\n' "${failed[@]}"
    exit 1
fi
echo "all steps passed; figures in $OUT/train.csv, $OUT/train_sweep.csv and this log"
