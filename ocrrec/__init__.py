"""ocrrec: PaddleOCR-compatible text-recognition training from one CLI.

The library never imports Typer or prints tables; `ocrrec.cli` does that.
"""

__version__ = "0.1.0"

import os as _os
import warnings as _warnings

# `import paddle` sets OMP_NUM_THREADS=1 when it is unset, so the value the user chose (or its
# absence) is recorded here, before paddle can be imported through ocrrec.
# ocrrec's launcher marks workers whose user left it unset (paddle's launcher imports paddle first).
USER_OMP_NUM_THREADS: str | None = (
    None if _os.environ.get("OCRREC_OMP_UNSET") == "1" else _os.environ.get("OMP_NUM_THREADS")
)

# paddle's C++ logging (glog) is chatty at INFO level; users can still lower this themselves
_os.environ.setdefault("GLOG_minloglevel", "2")

# paddle warns about a missing compiler cache on every import; it is irrelevant to users
_warnings.filterwarnings("ignore", message="No ccache found", category=UserWarning)
# BatchNorm repeats this notice on every training forward pass
_warnings.filterwarnings("ignore", message="When training, we now always track global mean and variance")
