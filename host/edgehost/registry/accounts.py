"""Accounts and their API keys. Keys are stored only as SHA-256 hashes.

A key is 256 random bits, so a fast hash is enough: nothing can be brute-forced from it, and
checking a key on every admin call stays cheap.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
import uuid
from dataclasses import asdict, dataclass

from edgehost.errors import BadRequest, Conflict, Unauthorized
from edgehost.registry.manifest import check_function_name
from edgehost.storage.lmdb_env import LmdbEnv

KEY_PREFIX = "ehk_"


@dataclass(frozen=True)
class Account:
    account_id: str
    name: str
    is_admin: bool
    created_at: float


def hash_key(key: str) -> bytes:
    return hashlib.sha256(key.encode("utf-8")).digest()


def new_api_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


class Accounts:
    def __init__(self, env: LmdbEnv) -> None:
        self._env = env
        self._accounts = env.db("accounts")
        self._keys = env.db("api_keys")
        self._names = env.db("account_names")

    def get(self, account_id: str) -> Account | None:
        raw = self._env.read(lambda txn: txn.get(account_id.encode(), db=self._accounts))
        return Account(**json.loads(raw)) if raw else None

    def by_name(self, name: str) -> Account | None:
        account_id = self._env.read(lambda txn: txn.get(name.encode(), db=self._names))
        return self.get(account_id.decode()) if account_id else None

    def authenticate(self, key: str | None) -> Account:
        if not key:
            raise Unauthorized("missing API key: send 'Authorization: Bearer <key>'")
        account_id = self._env.read(lambda txn: txn.get(hash_key(key), db=self._keys))
        # Looked up by hash: timing reveals nothing about a key that is not already known.
        account = self.get(account_id.decode()) if account_id is not None else None
        if account is None:
            raise Unauthorized("API key is not valid")
        return account

    def create(self, name: str, *, is_admin: bool = False, key: str | None = None
               ) -> tuple[Account, str]:
        """Create an account; returns it with its API key (shown once, stored hashed)."""
        if (problem := check_function_name(name, "account name")) is not None:
            raise BadRequest(problem)
        account = Account(str(uuid.uuid4()), name, is_admin, time.time())
        key = key or new_api_key()

        def txn_fn(txn) -> None:
            if txn.get(name.encode(), db=self._names) is not None:
                raise Conflict(f"account name {name!r} is taken")
            txn.put(account.account_id.encode(), json.dumps(asdict(account)).encode(),
                    db=self._accounts)
            txn.put(name.encode(), account.account_id.encode(), db=self._names)
            txn.put(hash_key(key), account.account_id.encode(), db=self._keys)

        self._env.write(txn_fn)
        return account, key

    def replace_key(self, account_id: str, key: str) -> None:
        """Give an account a new key; every old key of that account stops working."""
        def txn_fn(txn) -> None:
            stale = [k for k, v in txn.cursor(db=self._keys) if v == account_id.encode()]
            for k in stale:
                txn.delete(k, db=self._keys)
            txn.put(hash_key(key), account_id.encode(), db=self._keys)

        self._env.write(txn_fn)

    def has_key(self, account_id: str, key: str) -> bool:
        found = self._env.read(lambda txn: txn.get(hash_key(key), db=self._keys))
        return found == account_id.encode()
