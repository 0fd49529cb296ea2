"""DeepAR: training, prediction through skucast's sampler (batch/chunk invariant paths),
TorchScript and torch.export files equal to the eager model, clear errors."""
import os
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("pandas")
from model_frames import make_frame  # noqa: E402
from skucast.models import Forecaster, ModelFileError, fit, save  # noqa: E402

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def frames():
    return make_frame()


@pytest.fixture(scope="module")
def trained(frames):
    train, _, _ = frames
    return fit(train, model="deepar", horizon=14, context_length=21, epochs=2, batches_per_epoch=4,
               batch_size=16, hidden=8, layers=2, lags=[1, 2, 7, 14])


@pytest.fixture(scope="module")
def files(trained, tmp_path_factory):
    d = tmp_path_factory.mktemp("deepar")
    return {fmt: save(trained, str(d / f"m.{ext}")) for fmt, ext in (("torchscript", "pt"), ("export", "pt2"))}


def test_training_reduces_loss_and_spec(trained):
    h = trained.history
    assert all(np.isfinite(h)) and len(h) == 2
    spec = trained.spec
    assert spec["horizon"] == 14 and spec["context_length"] == 21 and spec["lags"] == [1, 2, 7, 14]
    assert spec["numeric"] == ["price_change", "snap"]
    assert set(spec["categorical"]) == {"event_type", "dow", "month"}
    assert spec["static"]["dept_id"] == ["D0", "D1", "D2"]


def test_predict_shapes_and_frame(frames, trained):
    train, futr, _ = frames
    fc = Forecaster(trained).predict(train, futr, horizon=14, num_samples=30, seed=3)
    assert fc.samples.shape == (12, 30, 14) and fc.samples.dtype == np.int64
    assert (fc.samples >= 0).all()
    q = fc.quantiles([0.5, "p90"])
    assert q.shape == (12, 14, 2) and (q[..., 0] <= q[..., 1]).all()
    df = fc.to_frame([0.1, 0.5, 0.9])
    assert list(df.columns) == ["unique_id", "ds", "mean", "q0.1", "q0.5", "q0.9"]
    assert len(df) == 12 * 14
    first = train.groupby("unique_id")["ds"].max().iloc[0]
    assert df["ds"].iloc[0] == first + np.timedelta64(1, "D")


def test_paths_identical_alone_batched_and_chunked(frames, trained):
    train, futr, _ = frames
    f = Forecaster(trained)
    full = f.predict(train, futr, horizon=14, num_samples=40, seed=11)
    for i in (0, 5, 11):
        alone = f.predict(train[train.unique_id == full.unique_id[i]], futr, horizon=14, num_samples=40, seed=11)
        np.testing.assert_array_equal(alone.samples[0], full.samples[i])
    chunked = f.predict(train, futr, horizon=14, num_samples=40, seed=11, chunk_size=5)
    np.testing.assert_array_equal(chunked.samples, full.samples)
    # path j does not depend on how many paths are drawn; the seed matters
    fewer = f.predict(train, futr, horizon=14, num_samples=10, seed=11)
    np.testing.assert_array_equal(fewer.samples, full.samples[:, :10])
    assert not np.array_equal(f.predict(train, futr, horizon=14, num_samples=10, seed=12).samples, fewer.samples)


def test_common_shock_chunk_invariant_and_widens_sums(frames, trained):
    train, futr, _ = frames
    f = Forecaster(trained)
    kw = dict(horizon=14, num_samples=200, seed=4)
    shocked = f.predict(train, futr, common_shock=0.3, **kw)
    np.testing.assert_array_equal(f.predict(train, futr, common_shock=0.3, chunk_size=5, **kw).samples,
                                  shocked.samples)
    uid = shocked.unique_id[3]
    alone = f.predict(train[train.unique_id == uid], futr, common_shock=0.3, **kw)
    np.testing.assert_array_equal(alone.samples[0], shocked.samples[3])
    plain = f.predict(train, futr, **kw)
    assert shocked.samples.sum(0).var(0).mean() > 1.5 * plain.samples.sum(0).var(0).mean()
    with pytest.raises(ValueError, match="common_shock"):
        f.predict(train, futr, common_shock=-1.0, **kw)
    # one factor per department (and one for the store): same invariances
    by_dept = dict(common_shock={"store_id": 0.1, "dept_id": 0.3}, **kw)
    grouped = f.predict(train, futr, **by_dept)
    np.testing.assert_array_equal(f.predict(train, futr, chunk_size=5, **by_dept).samples, grouped.samples)
    alone = f.predict(train[train.unique_id == uid], futr, **by_dept)
    np.testing.assert_array_equal(alone.samples[0], grouped.samples[3])
    with pytest.raises(ValueError, match="common_shock: grouping column 'aisle'"):
        f.predict(train, futr, common_shock={"aisle": 0.1}, **kw)


def _fixed_inputs(spec, net, bs=20, s=3):
    g = torch.Generator().manual_seed(0)
    L, H, layers = len(spec["lags"]), net.hidden, net.layers
    cards = list(spec["categorical"].values())
    return (torch.randn(bs, s, L, generator=g), torch.randn(bs, 1 + len(spec["numeric"]), generator=g),
            torch.stack([torch.randint(0, c, (bs,), generator=g) for c in cards], 1),
            torch.stack([torch.randint(0, len(v) + 1, (bs,), generator=g) for v in spec["static"].values()], 1), torch.rand(bs, generator=g) * 5 + 1,
            torch.randn(layers, bs * s, H, generator=g), torch.randn(layers, bs * s, H, generator=g))


@pytest.mark.parametrize("fmt", ["torchscript", "export"])
def test_exported_equals_eager(frames, trained, files, fmt):
    loaded = Forecaster.load(files[fmt])
    assert loaded.spec["format"] == fmt and loaded.spec["torch_version"] == torch.__version__
    x = _fixed_inputs(trained.spec, trained.net)
    with torch.no_grad():
        ref = trained.net(*x)
        got = loaded.net(*x)
    for a, b in zip(ref, got):
        torch.testing.assert_close(b, a, rtol=1e-6, atol=1e-7)
    train, futr, _ = frames
    eager = Forecaster(trained).predict(train, futr, horizon=14, num_samples=25, seed=5)
    exported = loaded.predict(train, futr, horizon=14, num_samples=25, seed=5)
    np.testing.assert_array_equal(exported.samples, eager.samples)


def test_load_needs_no_training_code_and_no_warnings(files, frames):
    # a fresh interpreter that imports only the Forecaster path
    import subprocess
    code = ("import warnings, sys; warnings.simplefilter('error');"
            "import skucast; f = skucast.Forecaster.load(sys.argv[1]);"
            "assert 'skucast.models.deepar' not in sys.modules, 'training code imported';"
            "print(f.spec['model'])")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    for path in files.values():
        out = subprocess.run([sys.executable, "-c", code, path], capture_output=True, text=True, env=env)
        assert out.returncode == 0, out.stderr[-2000:]
        assert out.stdout.strip() == "deepar"


def test_cold_start_new_item(frames, trained):
    train, futr, _ = frames
    one = train[train.unique_id == "S004"].copy()
    one["unique_id"] = "NEW"
    one["item_id"] = "I999"                      # unseen: falls back on dept/cat embeddings
    one = one.iloc[-10:]                         # and a history shorter than the context
    fut = futr[futr.unique_id == "S004"].assign(unique_id="NEW")
    fc = Forecaster(trained).predict(one, fut, horizon=14, num_samples=20)
    assert fc.samples.shape == (1, 20, 14) and np.isfinite(fc.mean).all()


def test_bad_requests(frames, trained):
    train, futr, _ = frames
    f = Forecaster(trained)
    with pytest.raises(ValueError, match="horizon: the model was trained for 14 days; got 28"):
        f.predict(train, futr, horizon=28)
    with pytest.raises(ValueError, match="futr_df: the model uses future covariates"):
        f.predict(train, None, horizon=14)
    with pytest.raises(ValueError, match=r"futr_df: missing column\(s\) \['snap'\]"):
        f.predict(train, futr.drop(columns=["snap"]), horizon=14)
    with pytest.raises(ValueError, match="futr_df: .* rows of the horizon are missing"):
        f.predict(train, futr[futr.ds < futr.ds.min() + np.timedelta64(13, "D")], horizon=14)
    with pytest.raises(ValueError, match=r"df: missing column\(s\) \['price_change'\]"):
        f.predict(train.drop(columns=["price_change"]), futr, horizon=14)


def test_corrupt_files(files, tmp_path):
    good = open(files["torchscript"], "rb").read()
    trunc = tmp_path / "trunc.pt"
    trunc.write_bytes(good[: len(good) // 2])
    with pytest.raises(ModelFileError, match="not a readable skucast model file"):
        Forecaster.load(str(trunc))
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a model" * 100)
    with pytest.raises(ValueError, match="corrupt or truncated"):
        Forecaster.load(str(junk))
    import zipfile
    foreign = tmp_path / "foreign.pt"
    with zipfile.ZipFile(foreign, "w") as zf:
        zf.writestr("a/data.pkl", b"x")
    with pytest.raises(ValueError, match="not a skucast model file"):
        Forecaster.load(str(foreign))
    # flip bytes inside the stored weights: the zip CRC or the loader catches it
    bad = bytearray(open(files["export"], "rb").read())
    mid = len(bad) // 3
    bad[mid:mid + 64] = bytes(64)
    corrupt = tmp_path / "corrupt.pt2"
    corrupt.write_bytes(bytes(bad))
    with pytest.raises(ValueError):
        Forecaster.load(str(corrupt)).predict  # noqa: B018
    with pytest.raises(FileNotFoundError):
        Forecaster.load(str(tmp_path / "missing.pt"))


def test_train_api_and_cli(frames, tmp_path):
    import skucast
    from skucast.cli import main
    train, futr, _ = frames
    path = skucast.train(train, str(tmp_path / "api.pt"), horizon=7, context_length=14, epochs=1,
                         batches_per_epoch=2, batch_size=8, hidden=4, lags=[1, 7])
    assert skucast.Forecaster.load(path).predict(train, futr, num_samples=5).samples.shape == (12, 5, 7)
    train.to_parquet(tmp_path / "train.parquet")
    futr.to_parquet(tmp_path / "futr.parquet")
    out = tmp_path / "cli.pt2"
    assert main(["train", "--input", str(tmp_path / "train.parquet"), "--out", str(out), "--horizon", "7",
                 "--context-length", "14", "--epochs", "1", "--batches", "2", "--batch-size", "8",
                 "--hidden", "4"]) == 0
    assert main(["predict", "--model", str(out), "--input", str(tmp_path / "train.parquet"),
                 "--futr", str(tmp_path / "futr.parquet"), "--out", str(tmp_path / "fc.csv"),
                 "--num-samples", "5"]) == 0
    import pandas as pd
    fc = pd.read_csv(tmp_path / "fc.csv")
    assert list(fc.columns) == ["unique_id", "ds", "mean", "q0.5", "q0.9"] and len(fc) == 12 * 7
    with pytest.raises(SystemExit, match="skucast predict: device: 'cpu' or a CUDA device; got 'meta'"):
        main(["predict", "--model", str(out), "--input", str(tmp_path / "train.parquet"), "--futr",
              str(tmp_path / "futr.parquet"), "--out", str(tmp_path / "fc2.csv"), "--device", "meta"])
