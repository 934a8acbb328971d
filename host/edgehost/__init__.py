"""edgehost: a self-hosted, WebAssembly-sandboxed function host with stateful actors."""

__version__ = "0.1.0"
