"""Compute: running experiments in child processes, expanding and executing sweeps, summarising them.

Modules: :mod:`sweep` (planning: paths checked against the manifest, trials expanded and resolved),
:mod:`sweeping` (what a backend that runs sweeps implements and receives), :mod:`child` (one run in a
child process with its own process group), :mod:`executor` (parallel runs under a worker limit, Ctrl-C
safe), :mod:`local_sweep` (the ``local`` backend's sweeps), :mod:`summary` (the sweep table, best run,
``sweep.json``). The manifest's ``sweep`` section itself is :mod:`tradecore.config.sweep`.
"""
