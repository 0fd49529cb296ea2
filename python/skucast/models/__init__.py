"""Deep forecasting models (DeepAR, N-BEATS) with NB outputs; needs torch (the ``models`` extra).

Serving (Forecaster, load_file) does not import the training code; names resolve lazily.
"""
from importlib import import_module

_WHERE = {"fit": "training", "train": "training", "TrainedModel": "training", "save": "export",
          "load_file": "export", "ModelFileError": "export", "Forecaster": "forecaster",
          "Forecast": "forecaster"}

__all__ = sorted(_WHERE)


def __getattr__(name):
    if name in _WHERE:
        return getattr(import_module(f".{_WHERE[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
