-- wrk hook for bench_hello.py and bench_actors.py: print the run's summary as one JSON line,
-- so the benchmarks never parse wrk's human-readable output (whose units change with magnitude).
-- Latencies are in microseconds, duration too; errors.status counts answers with status > 399.
-- wrk_actors.lua loads this file and calls report() with its own counters as `extra`.

function report(summary, latency, extra)
  local e = summary.errors
  io.write(string.format(
    'EDGEHOST_BENCH_JSON {"requests":%.0f,"duration_us":%.0f,"bytes":%.0f,' ..
    '"errors":{"connect":%.0f,"read":%.0f,"write":%.0f,"status":%.0f,"timeout":%.0f},' ..
    '"latency_us":{"p50":%.1f,"p90":%.1f,"p99":%.1f,"mean":%.1f,"max":%.1f}%s}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.mean, latency.max, extra and ("," .. extra) or ""))
end

done = function(summary, latency, requests)
  report(summary, latency, nil)
end
