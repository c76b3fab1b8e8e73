"""ocrrec: PaddleOCR-compatible text-recognition training from one CLI.

The library never imports Typer or prints tables; `ocrrec.cli` does that.
"""

__version__ = "0.1.0"
