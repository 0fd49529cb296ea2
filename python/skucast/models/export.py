"""Model files: TorchScript (.pt, for libtorch/Java) or torch.export (.pt2), both zip archives
carrying ``skucast_spec.json`` (shapes, covariates, vocabularies, scaling, versions)."""
from __future__ import annotations

import json
import os
import warnings
import zipfile

import torch

__all__ = ["save", "load_file", "SPEC_NAME", "ModelFileError"]

SPEC_NAME = "skucast_spec.json"
FORMATS = ("torchscript", "export")


class ModelFileError(ValueError):
    """A file that is not a readable skucast model (corrupt, truncated, foreign, too new)."""


def _example_inputs(spec, net):
    n, s = 4, 3
    if spec["model"] == "deepar":
        L = len(spec["lags"])
        return (torch.zeros(n, s, L), torch.zeros(n, 1 + len(spec["numeric"])),
                torch.zeros(n, len(spec["categorical"]), dtype=torch.long),
                torch.zeros(n, len(spec["static"]), dtype=torch.long), torch.ones(n),
                torch.zeros(net.layers, n * s, net.hidden), torch.zeros(net.layers, n * s, net.hidden))
    return torch.zeros(n, spec["context_length"]), torch.ones(n)


def _export(net, spec):
    from torch.export import Dim
    ex = _example_inputs(spec, net)
    bs = Dim("series", min=1)
    if spec["model"] == "deepar":
        dyn = {"lags": {0: bs, 1: Dim("paths", min=1)}, "cov_num": {0: bs}, "cov_cat": {0: bs},
               "static": {0: bs}, "scale": {0: bs}, "h": {1: Dim.AUTO}, "c": {1: Dim.AUTO}}
    else:
        dyn = {"x": {0: bs}, "scale": {0: bs}}
    return torch.export.export(net, ex, dynamic_shapes=dyn)


def save(trained, path: str, format: str | None = None) -> str:
    """Write ``trained`` (models.training.TrainedModel) to ``path``; format from the extension
    (``.pt2`` -> torch.export, else TorchScript) unless given. Returns path."""
    if format is None:
        format = "export" if str(path).endswith(".pt2") else "torchscript"
    if format not in FORMATS:
        raise ValueError(f"format: must be one of {FORMATS}; got {format!r}")
    spec = dict(trained.spec, format=format)
    blob = json.dumps(spec)
    net = trained.net.eval()
    if format == "torchscript":
        with warnings.catch_warnings():   # torch.jit.* is deprecated upstream but is what libtorch/Java read
            warnings.simplefilter("ignore", DeprecationWarning)
            warnings.simplefilter("ignore", FutureWarning)
            torch.jit.save(torch.jit.script(net), path, _extra_files={SPEC_NAME: blob})
    else:
        torch.export.save(_export(net, spec), path, extra_files={SPEC_NAME: blob})
    return str(path)


def read_spec(path: str) -> dict:
    """The spec of a model file without loading the network; ModelFileError if unreadable."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"model file not found: {path}")
    try:
        with zipfile.ZipFile(path) as zf:
            names = [n for n in zf.namelist() if n.endswith("/extra/" + SPEC_NAME)]
            if not names:
                raise ModelFileError(f"{path}: not a skucast model file (no {SPEC_NAME} inside)")
            spec = json.loads(zf.read(names[0]))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError, KeyError) as e:
        if isinstance(e, ModelFileError):
            raise
        raise ModelFileError(f"{path}: not a readable skucast model file (corrupt or truncated "
                             f"archive: {type(e).__name__}: {e})") from None
    if spec.get("skucast_model") != 1 or spec.get("format") not in FORMATS:
        raise ModelFileError(f"{path}: unsupported skucast model file version "
                             f"{spec.get('skucast_model')!r} / format {spec.get('format')!r}")
    return spec


def load_file(path: str):
    """(network callable, spec) from a model file; ModelFileError on a corrupt file."""
    spec = read_spec(path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            warnings.simplefilter("ignore", FutureWarning)
            if spec["format"] == "torchscript":
                net = torch.jit.load(path, map_location="cpu")
            else:
                net = torch.export.load(path).module()
    except Exception as e:  # torch raises RuntimeError/others for damaged members
        raise ModelFileError(f"{path}: could not load the {spec['format']} program (file written by "
                             f"torch {spec.get('torch_version')}, running {torch.__version__}): "
                             f"{type(e).__name__}: {str(e)[:300]}") from None
    return net, spec
