"""The command line: thin typer commands over the station, one module per concern.

``entry.py`` is the console script (the fast urgent path first, standard library only);
``app.py`` is the full CLI it falls back to. This file imports nothing, so the fast path
never pays for typer, SQLModel or pydantic.
"""
