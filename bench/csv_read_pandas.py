"""Reads one CSV file with pandas.read_csv (C engine) and prints one JSON line like bench csv-read."""
import sys

import pandas as pd

from read_measure import measure


def read():
    frame = pd.read_csv(sys.argv[1], engine="c")
    return len(frame), frame.shape[1]


measure(read)
