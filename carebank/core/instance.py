"""The instance folder: per-installation files that are never committed."""
from __future__ import annotations

import os
import secrets
from pathlib import Path

from flask import Flask


def ensure_secret_key(app: Flask) -> None:
    """Use the configured secret, else one generated on first start and kept in instance/."""
    if app.config.get("SECRET_KEY"):
        return
    path = Path(app.instance_path) / "secret_key"
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        # O_EXCL: of two workers starting together only one writes, the other reads its key.
        # Mode 0600 from the start, so no other user of the machine can ever read it.
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(descriptor, "w") as file:
            file.write(secrets.token_urlsafe(48))
    app.config["SECRET_KEY"] = path.read_text().strip()
