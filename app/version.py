"""The server's version: read from the installed distribution, so setup.cfg is the one place it is written."""
import importlib.metadata
from functools import lru_cache


@lru_cache(maxsize=1)
def server_version():
    return importlib.metadata.version("context-services")
