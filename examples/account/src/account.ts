// The Account actor: one instance per account name, its balance in storage under "balance".
// Calls to one name run one at a time, so read-modify-write needs no lock; every call's
// writes are durable before its result is returned.
import { StatefulActor, JsonText, JsonObject } from "edgehost-sdk/assembly";

export class Account extends StatefulActor {
  /** Adds `amount` (> 0) and returns the new balance. */
  deposit(amount: i64): i64 {
    if (amount <= 0) abort("amount must be positive");
    let balance = this.balance();
    if (balance > i64.MAX_VALUE - amount) abort("deposit would overflow the balance");
    balance += amount;
    this.ctx.storage.put("balance", balance);
    return balance;
  }

  /** Takes `amount` (> 0) if the balance covers it: {"ok":true|false,"balance":N}. Never overdraws. */
  debit(amount: i64): JsonText {
    if (amount <= 0) abort("amount must be positive");
    let balance = this.balance();
    let ok = amount <= balance;
    if (ok) {
      balance -= amount;
      this.ctx.storage.put("balance", balance);
    }
    return new JsonText(new JsonObject().bool("ok", ok).int("balance", balance).toString());
  }

  /** The current balance (0 for a new account). */
  balance(): i64 {
    return this.ctx.storage.get<i64>("balance", 0);
  }
}
