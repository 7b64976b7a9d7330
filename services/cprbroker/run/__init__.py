"""Hosting several roles in one process (``cprbroker run``, ``cprbroker demo``):
the one package allowed to import more than one role."""
