"""User-facing errors.

Library code raises `UserError` for anything the user can fix (a bad path, a
bad config value, a broken label line). The CLI prints it as one line plus an
optional hint and exits with `exit_code`; nothing else prints tracebacks.
"""

from __future__ import annotations


class UserError(Exception):
    """A mistake in the user's input: printed as one line, never a traceback."""

    exit_code = 1

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message} ({self.hint})"


class UsageError(UserError):
    """Wrong command-line usage (bad option combination, bad override syntax)."""

    exit_code = 2


class ConfigError(UserError):
    """A config file or override that cannot be used."""

    exit_code = 2
