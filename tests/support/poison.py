"""Poison for the intake's tests: the test's own database refuses every inbox row whose payload holds a
marker word (a trigger raising, as a constraint refusing a value does), and the dead letters are read back."""

from __future__ import annotations

import base64
import json

from sqlalchemy import text

REFUSED = "ВІДМОВА-БАЗИ"


async def refuse_marked_items(db, marker: str = REFUSED) -> None:
    async with db.begin() as conn:
        await conn.execute(text(
            "CREATE FUNCTION refuse_marked() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
            f" IF strpos(NEW.payload::text, '{marker}') > 0 THEN"
            " RAISE EXCEPTION 'value refused by a check: %', NEW.dedupe_key; END IF; RETURN NEW; END $$"))
        await conn.execute(text("CREATE TRIGGER refuse_marked BEFORE INSERT ON inbox FOR EACH ROW"
                                " EXECUTE FUNCTION refuse_marked()"))


async def accept_marked_items(db) -> None:
    async with db.begin() as conn:
        await conn.execute(text("DROP TRIGGER refuse_marked ON inbox"))


async def parked_rows(db) -> list:
    async with db.connect() as conn:
        return (await conn.execute(text("SELECT * FROM parked_items ORDER BY id"))).mappings().all()


async def inbox_items(db) -> dict[str, dict]:
    """dedupe key -> payload of every stored item."""
    async with db.connect() as conn:
        rows = (await conn.execute(text("SELECT dedupe_key, payload FROM inbox ORDER BY id"))).all()
    return {key: payload for key, payload in rows}


def original_of(payload: dict) -> dict:
    """The item as it came, kept byte-exact beside its storable form."""
    return json.loads(base64.b64decode(payload["original"]).decode("utf-8", "surrogatepass"))
