"""Build a transform list from a config's `transforms:` and run samples through it.

Like PaddleOCR's create_operators, every op receives the Global section's items
as extra keyword arguments (they override the op's own keys), so ops accept
`**kwargs`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ocrrec.data.registry import DATA_OPS
from ocrrec.errors import ConfigError


def build_ops(
    transforms: Sequence[Any] | None, global_config: Mapping[str, Any] | None = None, where: str = "transforms"
) -> list[Any]:
    """Instantiate each `- OpName: {args}` entry (args may be empty/None)."""
    import ocrrec.data.ops  # noqa: F401  (registers the ops)

    if transforms is None:
        return []
    if not isinstance(transforms, Sequence) or isinstance(transforms, (str, bytes)):
        raise ConfigError(f"{where} must be a list of `- OpName: {{args}}` entries, got {type(transforms).__name__}")
    extra = dict(global_config or {})
    ops = []
    for i, entry in enumerate(transforms):
        if isinstance(entry, str):
            entry = {entry: None}
        if not isinstance(entry, Mapping) or len(entry) != 1:
            raise ConfigError(f"{where}[{i}] must be a single `OpName: {{args}}` mapping, got {entry!r}")
        ((name, args),) = entry.items()
        if args is None:
            args = {}
        if not isinstance(args, Mapping):
            raise ConfigError(f"{where}[{i}] ({name}): arguments must be a mapping, got {args!r}")
        ops.append(DATA_OPS.build({"name": name, **args}, f"{where}[{i}]", **extra))
    return ops


def run_ops(data: Any, ops: Sequence[Any]) -> tuple[Any, int | None]:
    """Apply ops in order; returns (result, None) or (None, index of the op that returned None)."""
    for index, op in enumerate(ops):
        data = op(data)
        if data is None:
            return None, index
    return data, None


def op_name(op: Any) -> str:
    return type(op).__name__
