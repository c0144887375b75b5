"""Subcommands of `ibc`, one module each (see ibc.cli)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, TypeAlias

if TYPE_CHECKING:
    # What each module's `register(sub)` gets: the subparsers of the `ibc` parser
    # (argparse._SubParsersAction is generic in typeshed only, so the alias is for type checks).
    Subparsers: TypeAlias = argparse._SubParsersAction[argparse.ArgumentParser]
