"""Accounts and their API keys. Keys are stored only as SHA-256 hashes.

    accounts        account_id        -> Account JSON   (ACCOUNTS)
    account_names   name              -> account_id
    api_keys        sha256(key)       -> account_id

A key is 256 random bits, so a fast hash is enough: nothing can be brute-forced from it, and
checking a key on every admin call stays cheap.
"""

from __future__ import annotations

import hashlib
import secrets
import time
import uuid
from dataclasses import dataclass

from edgehost.errors import BadRequest, Conflict, Unauthorized
from edgehost.registry.manifest import check_function_name
from edgehost.storage.lmdb_env import LmdbEnv, scan_prefix
from edgehost.storage.record_codec import dataclass_codec

KEY_PREFIX = "ehk_"


@dataclass(frozen=True)
class Account:
    account_id: str
    name: str
    is_admin: bool
    created_at: float


ACCOUNTS = dataclass_codec(Account)


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
        with self._env.reading() as txn:
            return ACCOUNTS.get(txn, self._accounts, account_id.encode())

    def by_name(self, name: str) -> Account | None:
        with self._env.reading() as txn:
            account_id = txn.get(name.encode(), db=self._names)
        return self.get(account_id.decode()) if account_id else None

    def authenticate(self, key: str | None) -> Account:
        if not key:
            raise Unauthorized("missing API key: send 'Authorization: Bearer <key>'")
        with self._env.reading() as txn:
            account_id = txn.get(hash_key(key), db=self._keys)
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
        with self._env.writing() as txn:
            if txn.get(name.encode(), db=self._names) is not None:
                raise Conflict(f"account name {name!r} is taken")
            ACCOUNTS.put(txn, self._accounts, account.account_id.encode(), account)
            txn.put(name.encode(), account.account_id.encode(), db=self._names)
            txn.put(hash_key(key), account.account_id.encode(), db=self._keys)
        return account, key

    def replace_key(self, account_id: str, key: str) -> None:
        """Give an account a new key; every old key of that account stops working."""
        with self._env.writing() as txn:
            # Keys are stored by hash, so an account's keys are found by value: a full walk,
            # done only when the host starts with a new EDGEHOST_API_KEY.
            stale = [k for k, v in scan_prefix(txn, self._keys, b"") if v == account_id.encode()]
            for k in stale:
                txn.delete(k, db=self._keys)
            txn.put(hash_key(key), account_id.encode(), db=self._keys)

    def has_key(self, account_id: str, key: str) -> bool:
        with self._env.reading() as txn:
            return txn.get(hash_key(key), db=self._keys) == account_id.encode()
