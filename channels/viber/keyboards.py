"""Outbound buttons as a Viber keyboard, and recognising a press of one of them.

A Viber ``reply`` button sends its ``ActionBody`` back as the user's message text, so a press looks
like any text message.  Each message with buttons therefore carries ``tracking_data`` listing the
payloads it offered (Viber echoes ``tracking_data`` in the user's next message): a reply whose text is
one of the offered payloads is a button press.
"""

from __future__ import annotations

import json
from typing import Any

from channels.base import Button

GRID_COLUMNS = 6
TRACKING_KEY = "switchboard_buttons"


def keyboard_of(rows: tuple[tuple[Button, ...], ...]) -> dict[str, Any] | None:
    if not rows:
        return None
    buttons = []
    for row in rows:
        columns = max(1, GRID_COLUMNS // max(1, len(row)))
        buttons.extend({"Columns": columns, "Rows": 1, "ActionType": "reply", "ActionBody": button.payload,
                        "Text": button.text} for button in row)
    return {"Type": "keyboard", "DefaultHeight": False, "Buttons": buttons}


def tracking_of(rows: tuple[tuple[Button, ...], ...]) -> str | None:
    if not rows:
        return None
    return json.dumps({TRACKING_KEY: {button.payload: button.text for row in rows for button in row}},
                      ensure_ascii=False)


def pressed_button(text: str, tracking_data: str | None) -> tuple[str, str] | None:
    """``(payload, label)`` when ``text`` is a payload the previous bot message offered."""
    if not tracking_data:
        return None
    try:
        offered = json.loads(tracking_data).get(TRACKING_KEY)
    except (ValueError, AttributeError):
        return None
    if isinstance(offered, dict) and text in offered:
        return text, str(offered[text])
    return None
