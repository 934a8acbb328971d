"""Threat: a call whose writes fail to commit (disk full, quota, anything) leaving its
activation's memory ahead of what was saved, so later calls act on state that was never
stored; and one failing turn failing the other turns that share its commit."""

import errno
import threading

from tests.conftest import LiveHost, deploy_counter
from tests.isolation.actors_common import assert_victim_intact, deploy_hog, seed_victim
from tests.isolation.containment import run_attack


def fail_commits_of(live_host: LiveHost, monkeypatch, doomed: set[str]) -> None:
    """Make every commit of these instance names fail as a full disk would."""
    storage = live_host.host.storage
    real_apply = storage.apply

    def apply(txn, instance, cleared, writes):
        if instance.name in doomed:
            raise OSError(errno.ENOSPC, "No space left on device (injected)")
        real_apply(txn, instance, cleared, writes)

    monkeypatch.setattr(storage, "apply", apply)


def test_a_failed_commit_is_a_clear_error_and_drops_the_activation(live_host: LiveHost,
                                                                    monkeypatch):
    victim = deploy_counter(live_host)
    seed_victim(live_host, victim)
    hog = deploy_hog(live_host)

    def call(name: str, method: str, args: str = "[]"):
        return hog.call(live_host, name, method, args, binding="HOG")

    assert call("doomed", "grow", "[10]").json() == 1  # stored: n = 1
    doomed: set[str] = set()
    fail_commits_of(live_host, monkeypatch, doomed)
    doomed.update({"doomed", "doomed-init"})
    victim_answers: list[int] = []

    def attack():
        # The victim's turns run beside the failing ones, often in the same group commit.
        writer = threading.Thread(target=lambda: victim_answers.extend(
            victim.call(live_host, "victim", "incr").status_code for _ in range(20)))
        writer.start()
        answers = [call("doomed", "grow", "[10]") for _ in range(5)]
        writer.join(60)
        return answers

    result = run_attack(live_host, attack)
    for r in result.attack_response:
        assert r.status_code == 500, r.text
        assert r.json()["name"] == "ActorOutputGateError"
        assert "Hog('doomed')" in r.json()["message"]
        assert "No space left on device (injected)" in r.json()["message"]
    # A constructor's writes that fail to commit fail the call the same way.
    r = victim.call(live_host, "doomed-init", "get")
    assert r.json()["name"] == "ActorOutputGateError", r.text
    doomed.clear()

    # The activations were dropped: the next calls start from what was saved, not from the
    # counter the failed calls left in memory (it would say 6).
    assert call("doomed", "n").json() == 1
    assert call("doomed", "stored_n").json() == 1
    assert call("doomed", "grow", "[10]").json() == 2
    assert victim.call(live_host, "doomed-init", "inits").json() == 1
    # The other turns were never failed with them.
    assert victim_answers == [200] * 20
    result.assert_bystander_kept_answering()
    assert_victim_intact(live_host, victim, n=3 + 20)
