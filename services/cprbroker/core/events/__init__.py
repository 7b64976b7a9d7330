"""Business events: the replica's person snapshot, the event catalogue, and
the derivation of typed events from CPR change codes and snapshot diffs.

Pure: no I/O. Reading the catalogue file, storing the replica and encoding
events live in :mod:`cprbroker.adapters`.
"""
