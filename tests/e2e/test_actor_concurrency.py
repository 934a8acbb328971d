"""One call at a time per name, different names in parallel, one activation per name."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx

from tests.conftest import LiveHost, deploy_counter


def _parallel(live_host: LiveHost, calls: list[tuple[str, str]], app, workers: int = 32
              ) -> list[httpx.Response]:
    def one(call: tuple[str, str]) -> httpx.Response:
        name, method = call
        with httpx.Client(base_url=live_host.base_url, timeout=60) as client:
            return client.post("/", headers={"host": f"{app.caller['slug']}.localhost"},
                               content=f"COUNTER\n{name}\n{method}\n[]")

    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(one, calls))


def test_one_name_never_runs_two_calls_at_once_while_two_names_run_in_parallel(
        roomy_host: LiveHost):
    live_host = roomy_host
    app = deploy_counter(live_host)
    for name in ("p", "q"):  # activate first, so init time does not skew the intervals
        app.call(live_host, name, "get")
    calls = [("p", "slow"), ("q", "slow")] * 5
    responses = _parallel(live_host, calls, app, workers=10)
    intervals: dict[str, list[tuple[int, int]]] = {"p": [], "q": []}
    for (name, _), r in zip(calls, responses, strict=True):
        assert r.status_code == 200, r.text
        intervals[name].append(tuple(r.json()))
    for name, spans in intervals.items():
        spans.sort()
        for (_, e1), (s2, _) in zip(spans, spans[1:], strict=False):
            assert s2 >= e1, f"{name}: a call started at {s2} before the previous ended at {e1}"
    overlaps = sum(1 for ps, pe in intervals["p"] for qs, qe in intervals["q"]
                   if ps < qe and qs < pe)
    assert overlaps > 0, "calls to different names never ran in parallel"


def test_concurrent_first_calls_make_exactly_one_activation(roomy_host: LiveHost):
    live_host = roomy_host
    app = deploy_counter(live_host)
    responses = _parallel(live_host, [("fresh", "incr")] * 40, app)
    assert sorted(r.json() for r in responses) == list(range(1, 41))
    assert app.call(live_host, "fresh", "inits").json() == 1


def test_many_concurrent_read_modify_writes_lose_nothing(roomy_host: LiveHost):
    live_host = roomy_host
    app = deploy_counter(live_host)
    for round_ in range(3):
        name = f"hot{round_}"
        responses = _parallel(live_host, [(name, "incr")] * 200, app)
        assert all(r.status_code == 200 for r in responses), \
            sorted({(r.status_code, r.text[:120]) for r in responses if r.status_code != 200})
        assert sorted(r.json() for r in responses) == list(range(1, 201))
        assert app.call(live_host, name, "get").json() == 200


def test_a_full_mailbox_answers_overloaded(make_live_host):
    live_host = make_live_host(mailbox_depth=2)
    app = deploy_counter(live_host)
    app.call(live_host, "busy", "get")
    responses = _parallel(live_host, [("busy", "slow")] * 12, app, workers=12)
    names = [r.json()["name"] if r.status_code == 500 else "ok" for r in responses]
    assert "ActorOverloadedError" in names, names
    assert "ok" in names
    assert set(names) <= {"ok", "ActorOverloadedError"}, names
