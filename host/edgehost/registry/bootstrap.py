"""The default account a host creates on first start, and where its key comes from."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from edgehost.files import write_private
from edgehost.registry.accounts import Account, Accounts

log = logging.getLogger("edgehost")

DEFAULT_ACCOUNT = "default"
KEY_FILE = "default-account.key"


@dataclass(frozen=True)
class DefaultAccount:
    account: Account
    key_file: Path | None  # where the generated key was written; None when it came from env
    key_from_env: bool


def ensure_default_account(accounts: Accounts, data_dir: Path,
                           env_key: str | None) -> DefaultAccount:
    """Create the default (admin) account on first start.

    Its key is `env_key` when given (so scripts can start a host with a known key; an existing
    default account is re-keyed to it), otherwise generated and written to a file readable
    only by its owner.
    """
    key_file = data_dir / KEY_FILE
    account = accounts.by_name(DEFAULT_ACCOUNT)
    if account is None:
        account, key = accounts.create(DEFAULT_ACCOUNT, is_admin=True, key=env_key or None)
        if not env_key:
            write_private(key_file, key + "\n")
    elif env_key and not accounts.has_key(account.account_id, env_key):
        accounts.replace_key(account.account_id, env_key)
        key_file.unlink(missing_ok=True)  # the generated key no longer works
        log.warning("default account re-keyed from EDGEHOST_API_KEY")
    return DefaultAccount(account, None if env_key else key_file, bool(env_key))



