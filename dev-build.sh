#!/usr/bin/env bash
# Developer loop without pip: configure once, rebuild the extension, drop it next to the
# sources so `PYTHONPATH=python python -c "import skucast"` uses this tree.
set -euo pipefail
cd "$(dirname "$0")"
build=${SKUCAST_BUILD_DIR:-build/dev}
if [ ! -f "$build/build.ninja" ]; then
  cuda_arch=()
  [ -n "${SKUCAST_CUDA_ARCHITECTURES:-}" ] && cuda_arch=(-DSKUCAST_CUDA_ARCHITECTURES="$SKUCAST_CUDA_ARCHITECTURES")
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DSKUCAST_CUDA="${SKUCAST_CUDA:-OFF}" "${cuda_arch[@]}" \
    -Dpybind11_DIR="$(python3 -m pybind11 --cmakedir)" -DSKBUILD_PROJECT_VERSION=0.1.0.dev >/dev/null
fi
cmake --build "$build" -j "${JOBS:-2}"
# copy, then rename over the old file: a Python process that has the old one mapped keeps it
# (copying over it in place would change the pages under that process)
for so in "$build"/_core*.so "$build"/_cuda*.so; do
  [ -e "$so" ] || continue
  cp "$so" "python/skucast/.$(basename "$so").new"
  mv -f "python/skucast/.$(basename "$so").new" "python/skucast/$(basename "$so")"
done
