"""Stateful actors: binding -> type -> owner routing, activations, mailboxes, turns."""
