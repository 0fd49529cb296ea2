#!/usr/bin/env bash
# One lease on a lent GPU (device tool): build the CUDA module for sm_90, run the GPU parity
# suite, the GPU benchmarks and a compute-sanitizer pass, each within what is left of the
# deadline (seconds, first argument). Logs and the built modules go to $OUT.
#   device run: bash bench/gpu_check.sh 400
#   BENCH_ARGS="--only models" SANITIZE=0 bash bench/gpu_check.sh 250   (a part of the benchmark, no sanitizer)
set -uo pipefail
deadline=$(( $(date +%s) + ${1:-400} ))
left() { echo $(( deadline - $(date +%s) - ${1:-0} )); }
OUT=${OUT:-/tmp/gpu_out}; mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 PYTHONPATH=$PWD/python
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.max.sm --format=csv
python3 -c "import sys, numpy, cupy, torch, scipy; print(sys.version.split()[0], numpy.__version__, cupy.__version__, torch.__version__, scipy.__version__)"
nvcc --version | tail -2; nproc

if ls prebuilt/_core*.so prebuilt/_cuda*.so >/dev/null 2>&1; then
  cp prebuilt/_core*.so prebuilt/_cuda*.so python/skucast/ && echo "using carried modules"
else
  t0=$(date +%s)
  cmake -S . -B build/gpu -G Ninja -DCMAKE_BUILD_TYPE=Release -DSKUCAST_CUDA=ON -DSKUCAST_CUDA_ARCHITECTURES=90-real \
    -Dpybind11_DIR="$(python3 -m pybind11 --cmakedir)" -DSKBUILD_PROJECT_VERSION=0.1.0.dev >/dev/null || exit 1
  timeout "$(left 60)" cmake --build build/gpu -j "$(nproc)" >"$OUT/build.log" 2>&1 || { tail -40 "$OUT/build.log"; exit 1; }
  cp build/gpu/_core*.so build/gpu/_cuda*.so python/skucast/ && cp build/gpu/_core*.so build/gpu/_cuda*.so "$OUT/"
  echo "build: $(( $(date +%s) - t0 )) s"
fi
python3 -c "import skucast; print(skucast.build_info(), skucast.cuda_available())"

echo "== parity"
timeout "$(left 120)" python3 -m pytest -q -p no:cacheprovider -rs tests/test_gpu_parity.py tests/test_cuda_build.py \
  tests/test_models_device.py 2>&1 | tee "$OUT/parity.log" | tail -60
echo "== bench"
timeout "$(left 20)" python3 bench/bench_gpu.py ${BENCH_ARGS:-} 2>&1 | tee "$OUT/bench.log"
cp bench/out/gpu*.json "$OUT/" 2>/dev/null
[ "${SANITIZE:-1}" = 0 ] && { echo "done (no sanitizer run), $(left) s left"; exit 0; }
echo "== sanitizer ($(left) s left)"
if [ "$(left)" -gt 30 ]; then
  timeout "$(left 5)" compute-sanitizer --tool memcheck --print-limit 20 python3 -m pytest -q -p no:cacheprovider \
    tests/test_gpu_parity.py -k "not torch" 2>&1 | tail -30 | tee "$OUT/sanitizer.log"
fi
echo "== racecheck ($(left) s left)"
if [ "$(left)" -gt 30 ]; then
  timeout "$(left 5)" compute-sanitizer --tool racecheck --print-limit 20 python3 -m pytest -q -p no:cacheprovider \
    tests/test_gpu_parity.py -k "quantiles and not torch" 2>&1 | tail -15 | tee "$OUT/racecheck.log"
fi
echo "done, $(left) s left"
