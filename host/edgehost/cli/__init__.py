"""The `edgehost` command."""
