"""The vocabulary of the command table: a command, a group of subcommands, shared options.

Each command module lists its commands in a `COMMANDS` table and keeps each command's
options (an `add_arguments` function) beside its handler; `main.build_parser` turns the
tables into argparse subparsers. So adding an option is one edit next to the code that reads
it, and the parser itself has nothing command-specific in it.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from edgehost.cli.settings import Target

Handler = Callable[[argparse.Namespace, Target], int]
AddArguments = Callable[[argparse.ArgumentParser], None]


def no_arguments(parser: argparse.ArgumentParser) -> None:
    """For a command that takes no options of its own."""


@dataclass(frozen=True)
class Command:
    name: str
    help: str  # the line in the parent's command list
    # None only for `serve`, which runs the host instead of talking to one (see main.main).
    handler: Handler | None
    add_arguments: AddArguments = no_arguments
    description: str | None = None  # the `CMD --help` text [help]


@dataclass(frozen=True)
class CommandGroup:
    """A command whose first argument is a subcommand (`edgehost actors list`)."""

    name: str
    help: str
    description: str
    dest: str  # the namespace attribute naming the chosen subcommand
    metavar: str
    commands: tuple[Command | CommandGroup, ...]


def add_commands(parser: argparse.ArgumentParser, commands: tuple[Command | CommandGroup, ...],
                 *, dest: str, metavar: str) -> None:
    """One required subcommand of `parser` per entry of `commands`, groups recursively."""
    subparsers = parser.add_subparsers(dest=dest, metavar=metavar, required=True)
    for command in commands:
        sub = subparsers.add_parser(command.name, help=command.help,
                                    description=command.description or command.help)
        if isinstance(command, CommandGroup):
            add_commands(sub, command.commands, dest=command.dest, metavar=command.metavar)
        else:
            sub.set_defaults(handler=command.handler)
            command.add_arguments(sub)


# ------------------------------------------------------------------ options shared by commands

def json_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print JSON for scripts")


def client_options(parser: argparse.ArgumentParser) -> None:
    """Where the host is and which key to use (main resolves them into a Target), and --json."""
    group = parser.add_argument_group("host")
    group.add_argument("--url", help="the host's address [EDGEHOST_URL, saved config, "
                                     "http://127.0.0.1:8787]")
    group.add_argument("--api-key", help="the account's API key [EDGEHOST_API_KEY, saved config]")
    json_option(parser)


def from_dir_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-f", "--from-dir", type=Path, default=Path("."), metavar="DIR",
                        help="the project folder (the one with telnyx.toml) [.]")
