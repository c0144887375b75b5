"""Subcommands of `ibc`, one module each (see ibc.cli)."""
