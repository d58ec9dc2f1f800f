"""Passport data: its own category of personal data, encrypted at rest by the application (AES-GCM) with
a key kept outside the database, so a copy of the database or its backups shows no passport.

The key comes from ``SWITCHBOARD_PD_KEY`` (32 bytes, base64) or, without it, from a file of the data
directory created on first use with owner-only rights.  Each value is bound to its client (the client id
is the cipher's associated data): a ciphertext moved to another row does not decrypt.  ``key_id`` names
the key a row was written with, so a new key can be brought in while old rows are re-encrypted.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

KEY_VARIABLE = "SWITCHBOARD_PD_KEY"
_BOOKLET = re.compile(r"^[А-ЯҐЄІЇ]{2}$")
KEY_FILE = Path("secrets") / "personal-data.key"
NONCE_BYTES = 12


@dataclass(frozen=True, slots=True)
class Passport:
    series: str  # two Cyrillic letters of a booklet passport; empty for an ID card
    number: str  # six digits of a booklet, nine of an ID card
    issued_by: str
    issued_on: str  # ISO date

    @classmethod
    def checked(cls, series: str, number: str, issued_by: str, issued_on: str) -> Passport:
        """A passport from what an operator typed: a booklet (two Cyrillic letters and six digits) or an
        ID card (nine digits, no series), issued on a real past date; ``ValueError`` says what is wrong."""
        series, number = series.strip().upper(), number.strip().replace(" ", "")
        if series and not (_BOOKLET.match(series) and re.fullmatch(r"\d{6}", number)):
            raise ValueError("a booklet passport: two Cyrillic letters and six digits")
        if not series and not re.fullmatch(r"\d{9}", number):
            raise ValueError("an ID card: nine digits")
        try:
            issued = date.fromisoformat(issued_on)
        except ValueError:
            raise ValueError("issued_on: a date, YYYY-MM-DD") from None
        if issued > date.today() or not issued_by.strip():
            raise ValueError("issued_on must be past and issued_by given")
        return cls(series, number, issued_by.strip(), issued.isoformat())

    def masked(self) -> dict[str, str]:
        return {"series": self.series[:1] + "*" if self.series else "", "number": "***" + self.number[-2:],
                "issued_by": "***", "issued_on": "***"}


class PassportCipher:
    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise ValueError("a personal-data key is 32 bytes")
        self._aead = AESGCM(key)
        self.key_id = hashlib.sha256(key).hexdigest()[:16]

    @classmethod
    def from_environment(cls, data_dir: Path) -> PassportCipher:
        """The key from ``SWITCHBOARD_PD_KEY``, else the data directory's key file (made on first use)."""
        if os.environ.get(KEY_VARIABLE):
            return cls(base64.b64decode(os.environ[KEY_VARIABLE]))
        path = data_dir / KEY_FILE
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "wb") as file:
                file.write(base64.b64encode(AESGCM.generate_key(bit_length=256)))
        return cls(base64.b64decode(path.read_bytes()))

    def seal(self, client_id: int, passport: Passport) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        plain = json.dumps(asdict(passport), ensure_ascii=False).encode()
        return nonce + self._aead.encrypt(nonce, plain, str(client_id).encode())

    def open(self, client_id: int, sealed: bytes) -> Passport:
        plain = self._aead.decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], str(client_id).encode())
        return Passport(**json.loads(plain))


async def save(conn: AsyncConnection, cipher: PassportCipher, client_id: int, passport: Passport) -> None:
    await conn.execute(text(
        "INSERT INTO client_passports (client_id, sealed, key_id) VALUES (:c, :s, :k)"
        " ON CONFLICT (client_id) DO UPDATE SET sealed = excluded.sealed, key_id = excluded.key_id,"
        " updated_at = now()"), {"c": client_id, "s": cipher.seal(client_id, passport), "k": cipher.key_id})


async def load(conn: AsyncConnection, cipher: PassportCipher, client_id: int) -> Passport | None:
    sealed = (await conn.execute(text("SELECT sealed FROM client_passports WHERE client_id = :c"),
                                 {"c": client_id})).scalar()
    return None if sealed is None else cipher.open(client_id, bytes(sealed))


def describe(passport: Passport | None, *, masked: bool) -> dict[str, Any] | None:
    if passport is None:
        return None
    return passport.masked() if masked else asdict(passport)
