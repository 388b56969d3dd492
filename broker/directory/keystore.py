"""Private keys on disk, one JSON file per key (mode 0600) in a directory per agency.

Private keys never go to the database, a log or a message; only the agency's own process
loads them.
"""

import json
import os
from pathlib import Path

from joserfc.jwk import OKPKey

from broker.errors import KeyNotAvailable


class FileKeystore:
    """Stores and loads private JWKs under `root/<agency>/<kid>.jwk.json`."""

    def __init__(self, root: Path) -> None:
        self._root = root

    def _agency_dir(self, agency_id: str) -> Path:
        return self._root / agency_id.replace(":", "_")

    def save(self, agency_id: str, key: OKPKey) -> Path:
        """Write a new private key; refuses to overwrite an existing file."""
        folder = self._agency_dir(agency_id)
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(self._root, 0o700)  # private keys: only this user may even list them
        os.chmod(folder, 0o700)
        path = folder / f"{key.kid}.jwk.json"
        data = json.dumps(key.as_dict(private=True)).encode()
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        return path

    def load(self, agency_id: str, kid: str) -> OKPKey:
        """Load one private key, or `KeyNotAvailable`."""
        path = self._agency_dir(agency_id) / f"{kid}.jwk.json"
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError:
            raise KeyNotAvailable("private key is not in this keystore") from None
        return OKPKey.import_key(data)

    def load_all(self, agency_id: str) -> dict[str, OKPKey]:
        """Every private key the agency holds, by kid (old encryption keys open old mail)."""
        folder = self._agency_dir(agency_id)
        if not folder.is_dir():
            return {}
        keys = (OKPKey.import_key(json.loads(p.read_text())) for p in folder.glob("*.jwk.json"))
        return {k.kid: k for k in keys if k.kid is not None}
