"""Argument types of the command line: each refuses a bad value with one line."""

import argparse
from collections.abc import Callable


def count(text: str) -> int:
    """A whole number >= 1."""
    value = int(text) if text.isdigit() else 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}")
    return value


def whole(most: int) -> Callable[[str], int]:
    """A type: a whole number from 1 to `most`."""

    def parse(text: str) -> int:
        value = int(text) if text.isdigit() else 0
        if not 1 <= value <= most:
            raise argparse.ArgumentTypeError(
                f"expected a whole number from 1 to {most}, got {text!r}"
            )
        return value

    return parse


def port(text: str) -> int:
    """A TCP port, 0-65535."""
    value = int(text) if text.isdigit() else -1
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"expected a port 0-65535, got {text!r}")
    return value


def promotion() -> argparse.ArgumentParser:
    """The options of `promote`: --version N and --force."""
    options = argparse.ArgumentParser(add_help=False)
    options.add_argument(
        "--version", required=True, type=count, metavar="N", help="registered version"
    )
    options.add_argument(
        "--force", action="store_true", help="move the alias whatever the gate says"
    )
    return options


def scheduler(command: argparse.ArgumentParser, what: str) -> None:
    """The --scheduler option of a command that can run on a Dask cluster."""
    command.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help=f"{what} on this Dask cluster (default: $DASK_SCHEDULER_ADDRESS, or here)",
    )
