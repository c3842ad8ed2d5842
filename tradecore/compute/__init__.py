"""Compute: running experiments in child processes, expanding and executing sweeps, summarising them.

Modules: :mod:`sweep_config` (the manifest's ``sweep`` section, pydantic only), :mod:`sweep` (planning:
paths checked against the manifest, trials expanded and resolved), :mod:`child` (one run in a child
process with its own process group), :mod:`executor` (parallel runs under a worker limit, Ctrl-C safe),
:mod:`summary` (the sweep table, best run, ``sweep.json``).
"""
