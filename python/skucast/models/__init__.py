"""Deep forecasting models (DeepAR, N-BEATS) with NB outputs; needs torch (the ``models`` extra)."""
from .export import ModelFileError, load_file, save
from .forecaster import Forecast, Forecaster
from .train import TrainedModel, fit, train

__all__ = ["fit", "train", "save", "load_file", "Forecaster", "Forecast", "TrainedModel", "ModelFileError"]
