"""Shared fixtures. Tests build their own tiny data under tmp_path."""

from __future__ import annotations

import os

# Keep paddle/oneDNN quiet and single-threaded per test process unless a test says otherwise.
os.environ.setdefault("GLOG_minloglevel", "2")
os.environ.setdefault("FLAGS_call_stack_level", "0")
