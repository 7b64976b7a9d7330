"""Synthetic CPR data: a population of invented persons and its daily deltas.

The generator builds a household-structured population with valid CPR numbers
in the real Danish municipalities, writes it as a full extract in the CPR
office's fixed-width format, then lets it live for a number of production days
(moves, marriages, births, deaths, ...) and writes each day as a delta file of
full per-person snapshots with 099 event records, beside a ground-truth file of
the business events a correct deriver must produce.

Everything here is pure and deterministic for a seed except
:mod:`cprbroker.synth.writer`, the one module that touches files. No CPR number
here belongs to a real person.
"""
