"""Run one skucast call in a fresh process with SKUCAST_NO_AVX512=1 (read once, at first use),
so a test can compare the AVX-512 path of this process with the fallback path bit for bit."""
import os
import subprocess
import sys

import numpy as np

_CHILD = (
    "import numpy as np, skucast, sys\n"
    "with np.load(sys.argv[1]) as f:\n"
    "    a = [f['arr_%d' % i] for i in range(len(f.files))]\n"
    "np.save(sys.argv[2], EXPR)\n"
)


def without_avx512(tmp_path, expr: str, *arrays) -> np.ndarray:
    """The value of ``expr`` (Python over ``skucast`` and the list ``a`` of ``arrays``) computed
    with the AVX-512 loops switched off."""
    src, out = tmp_path / "avx512_off_in.npz", tmp_path / "avx512_off_out.npy"
    np.savez(src, *arrays)
    env = {**os.environ, "SKUCAST_NO_AVX512": "1", "PYTHONPATH": os.pathsep.join(sys.path)}
    subprocess.run([sys.executable, "-c", _CHILD.replace("EXPR", expr), str(src), str(out)], env=env, check=True)
    return np.load(out)
