"""Worker processes: one host per core behind one port (see ARCHITECTURE.md)."""
