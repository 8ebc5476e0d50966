#!/usr/bin/env bash
# GPU embedding path, one run: install what the GPU needs, build the index with the embedder on CUDA and,
# in the same run over the same files, the CPU int8 reference; print pages/s and recall for both.
#
#   bench/gpu.sh                      # PDF_DIR/QUESTIONS from the environment, else the sample filings
#   PDF_DIR=../shared/financebench/pdfs QUESTIONS=../shared/financebench/questions_dev.jsonl bench/gpu.sh
#   bench/gpu.sh --dry-run            # no install, device cpu, the sample filings: checks the script on a CPU box
#
# Environment: PY (python to use; default: a venv in .venv-gpu made here), WHEELS (a folder of wheels for a
# machine without network: pip installs from it only), OUT (where figures go; default a temp dir),
# DEVICE (cuda; --dry-run: cpu), EMBEDDER (onnx: fp32 graph, the one CUDA runs; torch also works).
set -euo pipefail
cd "$(dirname "$0")/.."

dry_run=0
[[ "${1:-}" == "--dry-run" ]] && dry_run=1
OUT=${OUT:-$(mktemp -d -t finrag-gpu-XXXX)}
mkdir -p "$OUT"
export HF_HUB_OFFLINE=1 PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"

if (( dry_run )); then
  PY=${PY:-python}
  DEVICE=${DEVICE:-cpu}
else
  DEVICE=${DEVICE:-cuda}
  if [[ -z "${PY:-}" ]]; then
    [[ -x .venv-gpu/bin/python ]] || python3 -m venv .venv-gpu
    PY=.venv-gpu/bin/python
    pip_src=()
    [[ -n "${WHEELS:-}" ]] && pip_src=(--no-index --find-links "$WHEELS")
    "$PY" -m pip install -q "${pip_src[@]}" -e . onnxruntime-gpu
    # onnxruntime and onnxruntime-gpu share a module: the CPU wheel pulled in by the project must go.
    "$PY" -m pip uninstall -q -y onnxruntime 2>/dev/null || true
    "$PY" -m pip install -q "${pip_src[@]}" --force-reinstall --no-deps onnxruntime-gpu
  fi
  "$PY" - <<'PYCHECK'
import sys
import onnxruntime as ort
providers = ort.get_available_providers()
print("onnxruntime", ort.__version__, providers)
if "CUDAExecutionProvider" not in providers:
    sys.exit("no CUDAExecutionProvider: onnxruntime-gpu is not the onnxruntime imported, or no CUDA runtime")
PYCHECK
  command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
fi

if [[ -z "${PDF_DIR:-}" ]]; then
  PDF_DIR="$OUT/samples"
  "$PY" -m finrag.sample.generate "$PDF_DIR" >/dev/null
  QUESTIONS=${QUESTIONS:-$PDF_DIR/golden.jsonl}
fi
# --ingest-embedder same: documents go through the embedder under test (on CPU, auto would pick bf16 on AMX).
args=(--pdf-dir "$PDF_DIR" --device "$DEVICE" --embedder "${EMBEDDER:-onnx}" --ingest-embedder same --cpu-reference
  --json "$OUT/gpu.json")
[[ -n "${QUESTIONS:-}" ]] && args+=(--questions "$QUESTIONS")
echo "device=$DEVICE corpus=$PDF_DIR questions=${QUESTIONS:-none} out=$OUT"
"$PY" bench/ingest.py "${args[@]}"
echo "figures: $OUT/gpu.json"
