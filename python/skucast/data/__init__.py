"""Data layer: long frames (unique_id, ds, y + static and dynamic covariates) and loaders."""
from .frames import (CALENDAR_COVARIATES, CATEGORICAL_COVARIATES, NUMERIC_COVARIATES, STATIC_COLUMNS,
                     calendar_features, check_long, mark_listed, split_future)
from .m5 import default_m5_path, load_m5, m5_eval_arrays

__all__ = ["load_m5", "default_m5_path", "m5_eval_arrays", "check_long", "mark_listed", "split_future", "calendar_features",
           "STATIC_COLUMNS", "NUMERIC_COVARIATES", "CATEGORICAL_COVARIATES", "CALENDAR_COVARIATES"]
