"""Experiments done properly: sweeps of parameters x seeds, stored, summarised and plotted.

runs       one run: config + repeat -> per-epoch test accuracy (what every executor calls)
sweep      a grid x repeats; skips finished runs, stores each run as it ends
store      the SQLite store (ownnet-sweeps.db)
executors  serial, local processes, Dask distributed
presets    the book's experiments (book-lr, book-epochs, book-hidden, book-rotation, heuristics)
summary    mean, standard deviation, 95% interval, n per config
plots      accuracy against a parameter with error bars (Matplotlib Agg)
"""
