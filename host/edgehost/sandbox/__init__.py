"""The WebAssembly sandbox: ABI table, checked guest memory, host imports, and the engine.

Only `engine.py`, `engine_config.py` (the one engine configuration) and `compile_worker.py`
(the compile process) import wasmtime; everything else here is plain Python so it can be read
and tested without a guest.
"""
