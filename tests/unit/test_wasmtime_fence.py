"""The fence around wasmtime's private bindings: a wasmtime whose private API moved is
refused at start-up with a message naming what changed, never mid-request."""

from __future__ import annotations

import ctypes
from pathlib import Path

import pytest
from edgehost.sandbox import wasmtime_ffi
from wasmtime import _bindings, _ffi

HOST = Path(__file__).resolve().parents[2] / "host" / "edgehost"


def test_the_installed_wasmtime_passes_the_self_check():
    wasmtime_ffi.self_check()


def test_a_missing_symbol_is_named(monkeypatch):
    monkeypatch.delattr(_bindings, "_wasmtime_call_future_poll")
    with pytest.raises(wasmtime_ffi.FfiMismatch, match="wasmtime_call_future_poll is missing"):
        wasmtime_ffi.self_check()


def test_a_changed_signature_is_named(monkeypatch):
    poll = _bindings._wasmtime_call_future_poll
    monkeypatch.setattr(poll, "argtypes", [ctypes.c_void_p, ctypes.c_int])
    with pytest.raises(wasmtime_ffi.FfiMismatch,
                       match="wasmtime_call_future_poll takes 2 arguments, expected 1"):
        wasmtime_ffi.self_check()


def test_a_reshaped_type_is_named(monkeypatch):
    class Continuation(ctypes.Structure):
        _fields_ = [("callback", ctypes.c_void_p)]

    monkeypatch.setattr(_ffi, "wasmtime_async_continuation_t", Continuation)
    with pytest.raises(wasmtime_ffi.FfiMismatch, match="lacks field.*env, finalizer"):
        wasmtime_ffi.self_check()


def test_only_the_fence_imports_the_private_bindings():
    users = sorted(str(p.relative_to(HOST)) for p in HOST.rglob("*.py")
                   if "_ffi" in p.read_text() and "import" in p.read_text()
                   and ("wasmtime import _" in p.read_text() or "wasmtime._" in p.read_text()))
    assert users == ["sandbox/wasmtime_ffi.py"], users
