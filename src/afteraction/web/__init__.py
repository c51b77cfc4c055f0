"""Web layer: the FastAPI app serving `/api/v1` JSON and server-rendered pages.

Only this layer (and the CLI) constructs settings, engines and adapters, owns transactions
and translates errors into responses.
"""
