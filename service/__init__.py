"""skytally: air-defence reports in, per-region windowed interception counts and alerts out."""

__version__ = "0.1.0"
