"""Segment exports into the Klenty tables, the way Segment's warehouse loader writes them."""

from klenty_wh.load.report import LoadReport
from klenty_wh.load.run import DEDUPE_MODES, LoadOptions, load_files

__all__ = ["DEDUPE_MODES", "LoadOptions", "LoadReport", "load_files"]
