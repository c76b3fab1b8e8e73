"""ocrrec: PaddleOCR-compatible text-recognition training from one CLI.

The library never imports Typer or prints tables; `ocrrec.cli` does that.
"""

__version__ = "0.1.0"

import os as _os
import warnings as _warnings

# paddle's C++ logging (glog) is chatty at INFO level; users can still lower this themselves
_os.environ.setdefault("GLOG_minloglevel", "2")

# paddle warns about a missing compiler cache on every import; it is irrelevant to users
_warnings.filterwarnings("ignore", message="No ccache found", category=UserWarning)
# BatchNorm repeats this notice on every training forward pass
_warnings.filterwarnings("ignore", message="When training, we now always track global mean and variance")
