"""Durable state: the LMDB environment every part of the host stores into."""
