"""Commands that talk to the admin API only: list, inspect, delete-func, auth, accounts, actors."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from edgehost.cli import settings
from edgehost.cli.client import AdminClient
from edgehost.cli.commands import Command, CommandGroup, client_options, json_option
from edgehost.cli.errors import CliError
from edgehost.cli.output import emit, table
from edgehost.cli.settings import Target
from edgehost.projects import ProjectError, load_project


def _function_id(client: AdminClient, ref: str | None, from_dir: Path | None) -> str:
    """A function named by func_id, by name, or by the project folder's manifest."""
    if ref is None:
        try:
            project = load_project(from_dir or Path.cwd())
        except ProjectError as e:
            raise CliError(f"name a function, or run inside a project folder ({e})") from None
        ref = project.name
    functions = client.request("GET", "/functions")["functions"]
    for func in functions:
        if ref in (func["func_id"], func["name"]):
            return func["func_id"]
    raise CliError(f"no function {ref!r} on this account (see 'edgehost list')")


def list_functions(args, target: Target) -> int:
    with AdminClient(target) as client:
        functions = client.request("GET", "/functions")["functions"]
    rows = [[f["name"], f["func_id"], f["current_revision"] or "-", f["url"]] for f in functions]
    emit(args, functions, table(rows, ["NAME", "FUNC_ID", "REVISION", "URL"]))
    return 0


def function_ref_arguments(parser: argparse.ArgumentParser) -> None:
    """The function a command works on: named, or the project in -f DIR (see _function_id)."""
    parser.add_argument("ref", nargs="?", help="name or func_id [the project in -f DIR]")
    parser.add_argument("-f", "--from-dir", type=Path, metavar="DIR")


def inspect_arguments(parser: argparse.ArgumentParser) -> None:
    function_ref_arguments(parser)
    client_options(parser)


def inspect(args, target: Target) -> int:
    with AdminClient(target) as client:
        info = client.request("GET", f"/functions/{_function_id(client, args.ref, args.from_dir)}")
    lines = [f"{info['name']}  ({info['func_id']})", f"  url:      {info['url']}",
             f"  path url: {info['path_url']}", f"  revision: {info['current_revision'] or '-'}"]
    for binding in info.get("bindings", []):
        owner = binding["owner"]
        state = f"resolved to {owner['name']} ({owner['func_id']})" if binding["resolved"] \
            else "UNRESOLVED: no function on this account owns this type yet"
        lines.append(f"  binding {binding['binding']} -> {binding['type']}: {binding['role']}, "
                     f"{state}")
    current = info.get("current") or {}
    for warning in current.get("warnings", []):
        lines.append(f"  warning: {warning}")
    emit(args, info, "\n".join(lines))
    return 0


def delete_func_arguments(parser: argparse.ArgumentParser) -> None:
    function_ref_arguments(parser)
    parser.add_argument("-y", "--yes", action="store_true", help="do not ask for confirmation")
    client_options(parser)


def delete_func(args, target: Target) -> int:
    with AdminClient(target) as client:
        func_id = _function_id(client, args.ref, args.from_dir)
        if not args.yes:
            if not sys.stdin.isatty():
                raise CliError("refusing to delete without --yes (stdin is not a terminal)")
            answer = input(f"delete function {args.ref or func_id} ({func_id})? [y/N] ")
            if answer.strip().lower() not in ("y", "yes"):
                raise CliError("not deleted")
        result = client.request("DELETE", f"/functions/{func_id}")
    emit(args, result, f"deleted {result['name']} ({result['deleted']})")
    return 0


def auth_set_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("key", nargs="?", help="the key [read from stdin]")
    parser.add_argument("--url", help="also save the host URL")
    json_option(parser)
    parser.set_defaults(api_key=None)  # the key to save is not the key to use: no --api-key


def auth_set(args, target: Target) -> int:
    key = args.key if args.key is not None else sys.stdin.readline().strip()
    if not key:
        raise CliError("no API key given (pass it as an argument or on stdin)")
    values = {"api_key": key}
    if args.url:
        values["url"] = args.url.rstrip("/")
    path = settings.save(values)
    emit(args, {"saved": str(path)}, f"saved the API key to {path} (mode 0600)")
    return 0


def auth_status(args, target: Target) -> int:
    status = {"url": target.url, "key_source": target.key_source,
              "key": (target.key[:8] + "...") if target.key else None}
    if target.key:
        with AdminClient(target) as client:
            status["account"] = client.request("GET", "/whoami")
    text = f"host: {target.url}\nkey:  {status['key'] or '(none)'} from {target.key_source}"
    if "account" in status:
        account = status["account"]
        text += f"\naccount: {account['name']} ({account['account_id']})" + \
            (" [admin]" if account["is_admin"] else "")
    emit(args, status, text)
    return 0


def accounts_create_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name")
    client_options(parser)


def accounts_create(args, target: Target) -> int:
    with AdminClient(target) as client:
        created = client.request("POST", "/accounts", json={"name": args.name})
    emit(args, created, f"created account {created['name']} ({created['account_id']})\n"
                        f"api key (shown once): {created['api_key']}")
    return 0


def actors_list(args, target: Target) -> int:
    with AdminClient(target) as client:
        types = client.request("GET", "/actors")["types"]
    rows = [[t["type"], t["owner"]["name"] if t["owner"] else "(no owner)",
             ", ".join(t["methods"]) or "-",
             ", ".join(f"{b['name']}:{b['binding']}" for b in t["bindings"])] for t in types]
    emit(args, types, table(rows, ["TYPE", "OWNER", "METHODS", "BOUND BY (function:binding)"]))
    return 0


def actor_type_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("type")
    client_options(parser)


def actors_inspect(args, target: Target) -> int:
    with AdminClient(target) as client:
        info = client.request("GET", f"/actors/{args.type}")
    owner = info["owner"]
    lines = [f"{info['type']}: owned by " + (f"{owner['name']} ({owner['func_id']}, revision "
                                             f"{owner['revision']})" if owner else "nobody yet"),
             f"  methods: {', '.join(info['methods']) or '-'}",
             f"  live activations: {info['live_activations']}"]
    lines += [f"  bound by {b['name']} as {b['binding']} ({b['role']})" for b in info["bindings"]]
    emit(args, info, "\n".join(lines))
    return 0


def actors_instances_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("type")
    parser.add_argument("--limit", type=int, default=100, help="at most this many [100]")
    parser.add_argument("--after", help="start after this name (paging)")
    client_options(parser)


def actors_instances(args, target: Target) -> int:
    with AdminClient(target) as client:
        params = {"limit": args.limit, **({"after": args.after} if args.after else {})}
        info = client.request("GET", f"/actors/{args.type}/instances", params=params)
    rows = [[i["name"], "live" if i["live"] else ""] for i in info["instances"]]
    emit(args, info, table(rows, ["NAME", "STATE"]))
    return 0


# ------------------------------------------------------------------ the command table

API_KEY_COMMANDS = (
    Command("set", "save a key (argument or stdin) and optional URL", auth_set,
            auth_set_arguments,
            "Save an API key, and optionally the host URL, to the config file (mode 0600)."),
    Command("status", "which key is used and whom it belongs to", auth_status, client_options,
            "Show which host and key the CLI would use, where the key comes from, and its "
            "account."),
)

ACCOUNTS_COMMANDS = (
    Command("create", "create an account; prints its key once", accounts_create,
            accounts_create_arguments, "Create an account and print its API key (shown once)."),
)

ACTORS_COMMANDS = (
    Command("list", "types, owners, methods and bindings", actors_list, client_options,
            "List actor types with owners and bindings."),
    Command("inspect", "one type: owner, methods, activations", actors_inspect,
            actor_type_arguments, "Show one actor type."),
    Command("instances", "instance names of a type", actors_instances,
            actors_instances_arguments,
            "List instance names of a type (those that stored anything, and live ones)."),
)

COMMANDS = (
    Command("list", "list this account's functions", list_functions, client_options),
    Command("inspect", "show a function: revision, URLs, bindings and their owners", inspect,
            inspect_arguments),
    Command("delete-func", "delete a function and its revisions", delete_func,
            delete_func_arguments),
    CommandGroup("auth", "manage the saved API key", "Manage the saved API key.",
                 dest="auth_command", metavar="SUBCOMMAND", commands=(
                     CommandGroup("api-key", "set or check the API key",
                                  "Set or check the API key.", dest="key_command",
                                  metavar="ACTION", commands=API_KEY_COMMANDS),)),
    CommandGroup("accounts", "manage accounts (admin key)",
                 "Manage accounts (needs the admin key).", dest="accounts_command",
                 metavar="ACTION", commands=ACCOUNTS_COMMANDS),
    CommandGroup("actors", "actor types and instances on this account",
                 "Actor types and instances on this account.", dest="actors_command",
                 metavar="ACTION", commands=ACTORS_COMMANDS),
)
