"""Spec section 9, verbatim, through the CLI as a user runs it (subprocesses, real host).

new-func the owner, write the Account class, ship; new-func account-readonly, drop the sample
class, bind READONLY to Account, write the class-free handler, ship; deposit 100 to carol
through the owner's printed URL, read it through the reference's printed URL.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from edgehost.registry.actor_types import read_actor_classes

from tests.conftest import EXAMPLES, LiveHost

CLASS_FREE_HANDLER = '''\
import { Request, Response, JsonObject, match } from "edgehost-sdk/assembly";
import { env } from "./env";

export function fetch(req: Request): Response {
  const m = match("/accounts/:id/balance", req.path);
  if (m !== null && req.method == "GET") {
    const id = m.get("id");
    const r = env.READONLY.idFromName(id).balance();
    const e = r.error;
    if (e !== null) return Response.json(new JsonObject().str("error", e.name), 500);
    return Response.json(new JsonObject().str("account", id).int("balance", r.value)
      .str("via", "READONLY->Account(shared)"));
  }
  return Response.notFound();
}
'''


def _get_via(url: str, path: str, method: str = "GET", **kw) -> httpx.Response:
    """What curl does with a *.localhost URL: connect to loopback, send that Host."""
    parts = urlsplit(url)
    with httpx.Client(base_url=f"http://127.0.0.1:{parts.port}", timeout=60) as client:
        return client.request(method, path, headers={"host": parts.netloc}, **kw)


def test_the_shared_actor_walkthrough(roomy_host: LiveHost, tmp_path: Path):
    env = {**os.environ, "EDGEHOST_URL": roomy_host.base_url,
           "EDGEHOST_API_KEY": roomy_host.key, "EDGEHOST_CONFIG": str(tmp_path / "cfg.json")}

    def edgehost(*args: str, cwd: Path) -> str:
        r = subprocess.run([sys.executable, "-m", "edgehost", *args], cwd=cwd, env=env,
                           capture_output=True, text=True, timeout=600)
        assert r.returncode == 0, f"edgehost {' '.join(args)} failed:\n{r.stdout}\n{r.stderr}"
        return r.stdout

    # 1. The owner: scaffold, write the Account class and its routes, ship.
    edgehost("new-func", "--actor", "--name=account", cwd=tmp_path)
    owner = tmp_path / "account"
    assert 'func_id = "' in (owner / "telnyx.toml").read_text()
    for file in ("account.ts", "index.ts", "env.ts"):
        shutil.copy(EXAMPLES / "account" / "src" / file, owner / "src" / file)
    out = edgehost("ship", cwd=owner)
    owner_url = re.search(r"live at: (\S+)", out).group(1)

    # 2. The reference: scaffold, drop the sample class, bind READONLY to Account, ship.
    edgehost("new-func", "--actor", "--name=account-readonly", cwd=tmp_path)
    reference = tmp_path / "account-readonly"
    (reference / "src" / "account-readonly.ts").unlink()
    manifest = (reference / "telnyx.toml").read_text()
    manifest = re.sub(r'^binding = ".*"$', 'binding = "READONLY"', manifest, flags=re.M)
    manifest = re.sub(r'^type = ".*"$', 'type = "Account"', manifest, flags=re.M)
    (reference / "telnyx.toml").write_text(manifest)
    (reference / "src" / "index.ts").write_text(CLASS_FREE_HANDLER)
    edgehost("types", cwd=reference)  # typed env.READONLY from the owner's shipped signatures
    generated = (reference / "src" / "env.ts").read_text()
    assert "balance(): ActorResult<i64>" in generated
    assert 'export const READONLY: ActorNamespace<AccountStub>' in generated
    out = edgehost("ship", cwd=reference)
    reference_url = re.search(r"live at: (\S+)", out).group(1)

    # The reference shipped class-free.
    module = (reference / "build" / "account-readonly.wasm").read_bytes()
    section, _ = read_actor_classes(module)
    assert section.classes == {} and b"edgehost_actor_call" not in module
    inspected = edgehost("inspect", "account-readonly", cwd=tmp_path)
    assert "binding READONLY -> Account: reference, resolved to account" in inspected

    # 3. Deposit through the owner, read through the reference.
    r = _get_via(owner_url, "/accounts/carol/deposit", "POST", json={"amount": 100})
    assert r.status_code == 200 and r.json() == {"account": "carol", "balance": 100}
    r = _get_via(reference_url, "/accounts/carol/balance")
    assert r.status_code == 200
    assert r.json() == {"account": "carol", "balance": 100, "via": "READONLY->Account(shared)"}
