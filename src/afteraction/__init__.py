"""afteraction: a self-hosted incident tracker and learning-from-incidents studio.

The public surface of the package is deliberately small: the version and the settings
class. Everything else is reached through the web app (`afteraction.web.app.create_app`)
or the command line (`afteraction.cli.main`).
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
