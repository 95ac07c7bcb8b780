"""The WSGI entry point: `gunicorn wsgi:application`. The only place that reads the config file."""
import os
import sys

from app import create_app
from app.config import ConfigError, load

try:
    application = create_app(load(os.environ.get("CS_CONFIG") or None))
except ConfigError as error:
    print(f"context-services: configuration error: {error}", file=sys.stderr)
    # 3 is gunicorn's "worker failed to boot": the master stops instead of respawning.
    sys.exit(3)
