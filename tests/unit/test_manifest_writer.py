"""The CLI writing telnyx.toml (cli/project_commands.py): what it writes parses back with
tomllib to the values it meant, in the table it meant, and leaves the rest of the file as the
user wrote it. `write_manifest_func_id` records a function's id after `edgehost ship` found or
created it; `new-func` fills the SDK's templates with a name, an actor type and a binding."""

from __future__ import annotations

import argparse
import tomllib
from pathlib import Path

import pytest
from edgehost.cli.errors import CliError
from edgehost.cli.project_commands import new_func, write_manifest_func_id
from edgehost.cli.settings import resolve

FUNC_ID = "0f8b4f3e-5d0c-4e8e-9a3b-2f1d6c7e8a90"
NEW_ID = "7c1e2d3f-4a5b-4c6d-8e9f-0a1b2c3d4e5f"
HEAD = 'name = "shop"\nmain = "src/index.ts"\ncompatibility_date = "2026-05-01"\n'


def written(tmp_path: Path, text: str, func_id: str = FUNC_ID, name: str = "shop") -> dict:
    path = tmp_path / "telnyx.toml"
    path.write_text(text)
    write_manifest_func_id(path, func_id, name)
    return tomllib.loads(path.read_text())


def test_a_manifest_without_edge_compute_gets_the_table(tmp_path: Path):
    data = written(tmp_path, HEAD)
    assert data["edge_compute"] == {"func_id": FUNC_ID, "func_name": "shop"}
    assert {k: v for k, v in data.items() if k != "edge_compute"} == tomllib.loads(HEAD)


def test_a_manifest_without_a_final_newline_gets_the_table(tmp_path: Path):
    assert written(tmp_path, HEAD.rstrip("\n"))["edge_compute"]["func_id"] == FUNC_ID


def test_an_edge_compute_table_without_func_id_gets_it(tmp_path: Path):
    data = written(tmp_path, HEAD + '\n[edge_compute]\nfunc_name = "shop"\n')
    assert data["edge_compute"] == {"func_id": FUNC_ID, "func_name": "shop"}


def test_an_existing_func_id_is_replaced(tmp_path: Path):
    data = written(tmp_path, HEAD + f'\n[edge_compute]\nfunc_id = "{NEW_ID}"\n'
                                     'func_name = "shop"\n')
    assert data["edge_compute"] == {"func_id": FUNC_ID, "func_name": "shop"}


def test_the_rest_of_the_file_is_kept_as_written(tmp_path: Path):
    text = ('# my function\nname = "shop"  # its name\nmain = "src/index.ts"\n'
            'compatibility_date = "2026-05-01"\n\n[env_vars]\nGREETING = "hi"\n\n'
            '[[actors]]\nbinding = "CART"\ntype = "Cart"\n')
    path = tmp_path / "telnyx.toml"
    path.write_text(text)
    write_manifest_func_id(path, FUNC_ID, "shop")
    result = path.read_text()
    assert result.startswith(text.rstrip("\n"))
    data = tomllib.loads(result)
    assert data["env_vars"] == {"GREETING": "hi"}
    assert data["actors"] == [{"binding": "CART", "type": "Cart"}]


def test_writing_twice_keeps_one_func_id(tmp_path: Path):
    path = tmp_path / "telnyx.toml"
    path.write_text(HEAD)
    write_manifest_func_id(path, NEW_ID, "shop")
    write_manifest_func_id(path, FUNC_ID, "shop")
    assert tomllib.loads(path.read_text())["edge_compute"] == {"func_id": FUNC_ID,
                                                               "func_name": "shop"}


@pytest.mark.parametrize("text", [
    pytest.param(HEAD + '\n[edge_compute]  # ids the CLI writes\nfunc_name = "shop"\n',
                 id="header-with-comment"),
    pytest.param(HEAD + '\n[ edge_compute ]\nfunc_name = "shop"\n', id="header-with-spaces"),
    pytest.param(HEAD + '\n[env_vars]\nfunc_id = "the tenant\'s own"\n\n[edge_compute]\n'
                 'func_name = "shop"\n', id="func-id-variable-in-another-table"),
    pytest.param(HEAD + '\n[edge_compute]\nfunc_name = "shop"\n\n[env_vars]\n'
                 'func_id = "the tenant\'s own"\n', id="func-id-variable-after-edge-compute"),
])
def test_the_func_id_lands_in_edge_compute_whatever_the_layout(tmp_path: Path, text: str):
    original = tomllib.loads(text)
    data = written(tmp_path, text)
    assert data["edge_compute"]["func_id"] == FUNC_ID
    assert data.get("env_vars") == original.get("env_vars"), "another table's key was changed"


@pytest.mark.parametrize("func_id, name", [
    ('quote"d', "shop"), ("new\nline", "shop"), (FUNC_ID, "caf\u00e9 \\u0041"),
])
def test_values_needing_escapes_parse_back_unchanged(tmp_path: Path, func_id: str, name: str):
    # The func_id comes from whatever answers at the host URL, and is written before the
    # manifest is checked again: it must not be able to end its string.
    assert written(tmp_path, HEAD, func_id, name)["edge_compute"] == \
        {"func_id": func_id, "func_name": name}


# ------------------------------------------------------------------ new-func

def new_func_args(tmp_path: Path, **given) -> argparse.Namespace:
    return argparse.Namespace(**{"name": "shop", "actor": True, "type": None, "binding": None,
                                 "dir": tmp_path, "json": False, **given})


@pytest.mark.parametrize("option, value", [
    ("type", 'Ca"rt'), ("type", "Cart\nevil = 1"), ("binding", 'CA"RT'), ("binding", "CA-RT"),
])
def test_new_func_refuses_a_type_or_binding_the_manifest_could_not_hold(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, option: str, value: str):
    # Refused before the host is asked to register anything (the URL below answers nothing),
    # as the host itself would refuse the manifest at ship.
    monkeypatch.setenv("EDGEHOST_CONFIG", str(tmp_path / "no-config.json"))
    target = resolve("http://127.0.0.1:9", "ehk_unused")
    with pytest.raises(CliError) as refused:
        new_func(new_func_args(tmp_path, **{option: value}), target)
    assert f"--{option}" in refused.value.message
    assert not (tmp_path / "shop").exists()
