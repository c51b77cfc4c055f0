"""The `afteraction` command line (Typer + Rich): `afteraction <noun> <verb>`.

Commands build settings and engines, own transactions and print errors; the work itself
is done by storage and core functions.
"""
