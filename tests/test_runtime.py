"""Runtime controls: thread count, build_info(), cuda_available()."""
import os
import subprocess
import sys

import pytest

import skucast


def test_set_get_num_threads_roundtrip(restore_threads):
    for n in (1, 2, 3, 1):
        skucast.set_num_threads(n)
        assert skucast.get_num_threads() == n
    assert isinstance(skucast.get_num_threads(), int)


@pytest.mark.parametrize("n", [0, -1])
def test_set_num_threads_rejects_non_positive(n, restore_threads):
    before = skucast.get_num_threads()
    with pytest.raises(ValueError):
        skucast.set_num_threads(n)
    assert skucast.get_num_threads() == before


def test_default_is_all_cores():
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "SKUCAST_NUM_THREADS")}
    out = subprocess.run([sys.executable, "-c", "import skucast; print(skucast.get_num_threads())"],
                         capture_output=True, text=True, env=env, check=True)
    n = int(out.stdout.strip())
    cores = {os.cpu_count()}
    if hasattr(os, "sched_getaffinity"):
        cores.add(len(os.sched_getaffinity(0)))
    assert n in cores


def test_build_info():
    info = skucast.build_info()
    assert isinstance(info, dict)
    assert {"version", "compiler", "cuda", "threads"} <= set(info), sorted(info)
    assert isinstance(info["version"], str) and info["version"]
    assert isinstance(info["compiler"], str) and info["compiler"]
    assert isinstance(info["cuda"], bool)
    if hasattr(skucast, "__version__"):
        assert info["version"] == skucast.__version__


def test_cuda_available_is_bool():
    avail = skucast.cuda_available()
    assert isinstance(avail, bool)
    if avail:
        assert skucast.build_info().get("cuda") is True
