"""Name -> class registries for every swappable part (backbones, heads, transforms...).

A part registers itself with a decorator; configs pick it by name. An unknown
name or argument is a `ConfigError` that lists the close matches.
"""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from ocrrec.errors import ConfigError

T = TypeVar("T")


class Registry:
    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: dict[str, Any] = {}

    def register(self, name: str | None = None) -> Callable[[T], T]:
        def decorator(obj: T) -> T:
            key = name or obj.__name__  # type: ignore[attr-defined]
            if key in self._items and self._items[key] is not obj:
                raise ValueError(f"{self.kind} `{key}` registered twice")
            self._items[key] = obj
            return obj

        return decorator

    def __contains__(self, name: str) -> bool:
        return name in self._items

    def names(self, pattern: str | None = None) -> list[str]:
        import fnmatch

        names = sorted(self._items)
        return [n for n in names if fnmatch.fnmatch(n, pattern)] if pattern else names

    def get(self, name: str, where: str | None = None) -> Any:
        if name not in self._items:
            close = difflib.get_close_matches(str(name), self._items, n=3, cutoff=0.5)
            where_txt = f"{where}: " if where else ""
            hint = f"did you mean {', '.join(f'`{c}`' for c in close)}? " if close else ""
            raise ConfigError(f"{where_txt}unknown {self.kind} `{name}`; {hint}known: {', '.join(self.names())}")
        return self._items[name]

    def build(self, spec: Mapping[str, Any], where: str | None = None, **extra: Any) -> Any:
        """Instantiate `spec['name']` with the remaining keys (plus `extra`) as arguments."""
        if not isinstance(spec, Mapping) or "name" not in spec:
            raise ConfigError(f"{where or self.kind}: needs a `name` key (one of: {', '.join(self.names())})")
        args = {k: v for k, v in spec.items() if k != "name"}
        args.update(extra)
        cls = self.get(spec["name"], where)
        check_arguments(cls, args, f"{where or self.kind} ({spec['name']})")
        return cls(**args)


def check_arguments(fn: Any, args: Mapping[str, Any], where: str) -> None:
    """Raise a ConfigError naming an unexpected or missing argument before calling `fn`."""
    target = fn.__init__ if inspect.isclass(fn) else fn
    try:
        sig = inspect.signature(target)
    except (TypeError, ValueError):
        return
    params = [p for p in sig.parameters.values() if p.name != "self"]
    if any(p.kind is p.VAR_KEYWORD for p in params):
        accepted = None
    else:
        accepted = {p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    if accepted is not None:
        for key in args:
            if key not in accepted:
                close = difflib.get_close_matches(key, accepted, n=1)
                hint = f" (did you mean `{close[0]}`?)" if close else ""
                raise ConfigError(f"{where}: unexpected argument `{key}`{hint}; accepted: {', '.join(sorted(accepted))}")
    for p in params:
        if p.default is p.empty and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and p.name not in args:
            raise ConfigError(f"{where}: missing required argument `{p.name}`")
