"""ipcplay: watch real multiprocessing programs work, counted exactly."""

__version__ = "0.1.0"
