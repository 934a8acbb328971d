"""The edgehost CLI as a user runs it: a subprocess against a real host."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import EXAMPLES, LiveHost


@pytest.fixture
def cli(live_host: LiveHost, tmp_path: Path):
    env = {**os.environ, "EDGEHOST_URL": live_host.base_url, "EDGEHOST_API_KEY": live_host.key,
           "EDGEHOST_CONFIG": str(tmp_path / "config.json")}

    def run(*args: str, env_extra: dict | None = None, stdin: str | None = None,
            cwd: Path | None = None) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "edgehost", *args], capture_output=True,
                              text=True, env={**env, **(env_extra or {})}, input=stdin,
                              cwd=cwd, timeout=300)
    return run


def test_every_command_has_help(cli):
    commands = [["serve"], ["dev"], ["new-func"], ["build"], ["ship"], ["types"], ["list"],
                ["inspect"], ["delete-func"], ["auth"], ["auth", "api-key"],
                ["auth", "api-key", "set"], ["auth", "api-key", "status"], ["accounts"],
                ["accounts", "create"], ["actors"], ["actors", "list"], ["actors", "inspect"],
                ["actors", "instances"]]
    for command in commands:
        r = cli(*command, "--help")
        assert r.returncode == 0 and "usage: edgehost" in r.stdout, command


def copy_example(name: str, into: Path) -> Path:
    """A copy to ship from: ship writes the func_id back into the manifest it ships."""
    import shutil
    project = into / name
    shutil.copytree(EXAMPLES / name, project, ignore=shutil.ignore_patterns("node_modules"))
    return project


def test_ship_a_built_example_then_list_inspect_and_delete(cli, live_host: LiveHost,
                                                          tmp_path: Path):
    r = cli("ship", "-f", str(copy_example("hello", tmp_path)), "--no-build", "--json")
    assert r.returncode == 0, r.stderr
    shipped = json.loads(r.stdout)
    assert shipped["revision"] == 1
    assert live_host.call(shipped["slug"], "/").text == "hello from edgehost\n"
    listed = json.loads(cli("list", "--json").stdout)
    assert [f["name"] for f in listed] == ["hello"]
    r = cli("inspect", "hello")
    assert r.returncode == 0 and shipped["func_id"] in r.stdout
    r = cli("delete-func", "hello")
    assert r.returncode == 1 and "--yes" in r.stderr  # no terminal, no confirmation
    assert cli("delete-func", "hello", "--yes").returncode == 0
    assert json.loads(cli("list", "--json").stdout) == []


def test_plain_ship_prints_live_at(cli, tmp_path: Path):
    project = copy_example("hello", tmp_path)
    r = cli("ship", "-f", str(project), "--no-build")
    assert r.returncode == 0, r.stderr
    assert "live at: http://hello-" in r.stdout
    # the function's id was written back into the manifest, so the next ship reuses it
    assert "func_id = " in (project / "telnyx.toml").read_text()
    r = cli("ship", "-f", str(project), "--no-build", "--json")
    assert json.loads(r.stdout)["revision"] == 2


def test_a_stale_func_id_is_named_with_its_file(cli, tmp_path: Path):
    project = copy_example("hello", tmp_path)
    with open(project / "telnyx.toml", "a") as f:
        f.write('\n[edge_compute]\nfunc_id = "00000000-0000-4000-8000-000000000000"\n')
    r = cli("ship", "-f", str(project), "--no-build")
    assert r.returncode == 1
    assert "telnyx.toml: edge_compute.func_id" in r.stderr and "00000000" in r.stderr


def test_actor_commands_show_types_owners_bindings_and_instances(cli, live_host: LiveHost):
    owner = live_host.deploy_example("account")
    live_host.deploy_example("account-readonly")
    live_host.call(owner["slug"], "/accounts/zed/deposit", "POST", json={"amount": 3})
    types = json.loads(cli("actors", "list", "--json").stdout)
    assert [(t["type"], t["owner"]["name"], t["methods"]) for t in types] == \
        [("Account", "account", ["balance", "debit", "deposit"])]
    assert {b["binding"]: b["role"] for b in types[0]["bindings"]} == \
        {"ACCOUNT": "owner", "READONLY": "reference"}
    info = json.loads(cli("actors", "inspect", "Account", "--json").stdout)
    assert info["live_activations"] == 1
    instances = json.loads(cli("actors", "instances", "Account", "--json").stdout)
    assert instances["instances"] == [{"name": "zed", "live": True}]
    r = cli("actors", "inspect", "Nope")
    assert r.returncode == 1 and "Nope" in r.stderr


def test_auth_key_is_saved_owner_only_and_used(cli, live_host: LiveHost, tmp_path: Path):
    r = cli("auth", "api-key", "set", "--url", live_host.base_url, stdin=live_host.key + "\n",
            env_extra={"EDGEHOST_API_KEY": ""})
    assert r.returncode == 0, r.stderr
    config = tmp_path / "config.json"
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    r = cli("auth", "api-key", "status", "--json",
            env_extra={"EDGEHOST_API_KEY": "", "EDGEHOST_URL": ""})
    status = json.loads(r.stdout)
    assert status["key_source"] == str(config) and status["account"]["name"] == "default"


def test_accounts_create_prints_a_working_key(cli):
    r = cli("accounts", "create", "tenant-x", "--json")
    assert r.returncode == 0, r.stderr
    key = json.loads(r.stdout)["api_key"]
    r = cli("auth", "api-key", "status", "--json", "--api-key", key)
    assert json.loads(r.stdout)["account"]["name"] == "tenant-x"


@pytest.mark.parametrize("args, env_extra, expect", [
    (["list", "--url", "http://127.0.0.1:9"], {}, "cannot reach the host at http://127.0.0.1:9"),
    (["list"], {"EDGEHOST_API_KEY": "ehk_wrong"}, "refused the API key"),
    (["list"], {"EDGEHOST_API_KEY": ""}, "no API key is configured"),
    (["inspect", "ghost"], {}, "no function 'ghost'"),
])
def test_failures_are_one_clear_line_and_exit_1(cli, args, env_extra, expect):
    r = cli(*args, env_extra=env_extra)
    assert r.returncode == 1
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("edgehost: ") and expect in lines[0], r.stderr


@pytest.mark.parametrize("manifest_text, expect", [
    ('name = "bad"\n', "main: missing"),
    ('name = "bad"\nmain = "src/index.ts"\n[[actors]]\nbinding = "A__B"\ntype = "Account"\n',
     "actors[0].binding = 'A__B'"),
    ('name = "bad"\nmain = "src/index.ts"\n[[actors]]\nbinding = "OK"\ntype = "9bad"\n',
     "actors[0].type = '9bad'"),
    ('name = "bad"\nmain = "src/missing.ts"\n', "src/missing.ts"),
])
def test_bad_manifest_fails_before_build_naming_file_and_key(cli, tmp_path: Path,
                                                             live_host: LiveHost, manifest_text,
                                                             expect):
    project = tmp_path / "bad"
    (project / "src").mkdir(parents=True)
    (project / "telnyx.toml").write_text(manifest_text)
    r = cli("ship", "-f", str(project))
    assert r.returncode == 1
    assert "telnyx.toml" in r.stderr and expect in r.stderr, r.stderr
    assert json.loads(cli("list", "--json").stdout) == [], "something was half-shipped"


def test_new_func_refuses_an_existing_folder_and_registers_nothing(cli, tmp_path: Path):
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "keep.txt").write_text("mine")
    r = cli("new-func", "--name=taken", cwd=tmp_path)
    assert r.returncode == 1 and "already exists" in r.stderr
    assert (tmp_path / "taken" / "keep.txt").read_text() == "mine"
    assert json.loads(cli("list", "--json").stdout) == []


def test_new_func_scaffolds_registers_and_writes_func_id(cli, tmp_path: Path):
    r = cli("new-func", "--actor", "--name=shop-cart", "--json", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    created = json.loads(r.stdout)
    project = tmp_path / "shop-cart"
    manifest = (project / "telnyx.toml").read_text()
    assert f'func_id = "{created["func_id"]}"' in manifest
    assert 'binding = "SHOP_CART"' in manifest and 'type = "ShopCart"' in manifest
    assert (project / "src" / "shop-cart.ts").read_text().count("class ShopCart") == 1
    assert "{{" not in "".join(p.read_text() for p in project.rglob("*") if p.is_file())
    assert [f["name"] for f in json.loads(cli("list", "--json").stdout)] == ["shop-cart"]
