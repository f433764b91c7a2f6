"""Errors a user can fix: the CLI prints them as one line and exits non-zero."""

import sys


class ProjectError(Exception):
    """Base class: the message names the file or setting and the fix."""


class ConfigError(ProjectError):
    """params.yaml is missing a setting or holds a value of the wrong kind."""


class DataError(ProjectError):
    """The data file cannot be read or does not fit the settings."""


def warn(message: str) -> None:
    """Tell the user about data that works but may not mean what they think."""
    print(f"warning: {message}", file=sys.stderr)
