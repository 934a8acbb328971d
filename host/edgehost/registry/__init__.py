"""Accounts own functions; functions have immutable revisions (a module + its manifest)."""
