"""The WebAssembly sandbox: ABI table, checked guest memory, host imports, and the engine.

Only `engine.py` imports wasmtime; everything else here is plain Python so it can be read
and tested without a guest.
"""
