"""Function logs are written by their own thread, bounded in what may wait for it."""

from pathlib import Path

from edgehost.function_logs import FunctionLogs
from edgehost.metrics import Metrics


def test_entries_are_written_off_the_caller_and_read_back_in_order(tmp_path: Path):
    logs = FunctionLogs(tmp_path, max_bytes=1 << 20)
    for i in range(50):
        logs.append("f", [{"level": "info", "message": f"line {i}"}])
    assert [e["message"] for e in logs.tail("f", 100)] == [f"line {i}" for i in range(50)]
    logs.close()


def test_past_the_queue_bound_entries_are_dropped_and_counted(tmp_path: Path):
    metrics = Metrics()
    logs = FunctionLogs(tmp_path, max_bytes=1 << 20, queue_bytes=200, metrics=metrics)
    logs.append("f", [{"level": "info", "message": "x" * 500}])  # larger than the whole queue
    logs.append("f", [{"level": "info", "message": "fits"}])
    assert [e["message"] for e in logs.tail("f", 10)] == ["fits"]
    assert metrics.value("edgehost_function_log_entries_dropped_total") == 1
    logs.close()


def test_close_writes_what_is_queued(tmp_path: Path):
    logs = FunctionLogs(tmp_path, max_bytes=1 << 20)
    logs.append("g", [{"level": "warn", "message": "last words"}])
    logs.close()
    assert "last words" in (tmp_path / "g.jsonl").read_text()
