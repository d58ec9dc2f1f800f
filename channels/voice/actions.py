"""AMI actions composed by pyst2.

pyst2's ``Manager`` knows how each action is spelled (``redirect`` adds ``ExtraChannel`` only when
given, ``originate`` turns a variables dict into repeated ``Variable`` headers, ``Async: yes`` ...).
That part is kept: :class:`ActionComposer` is a ``Manager`` whose ``send_action`` returns the
composed headers instead of writing them to pyst2's blocking socket, and the asyncio connection
sends them.  Its ``send_action`` also takes a fresh dict each call (pyst2's default argument is a
shared mutable dict that leaks headers and ActionIDs from one call into the next).
"""

from __future__ import annotations

from typing import Any

from asterisk.manager import Manager


class ActionComposer(Manager):
    """Builds action headers with pyst2's action methods; never opens a socket."""

    def send_action(self, cdict: dict[str, Any] | None = None, **kwargs: Any) -> dict[str, Any]:  # type: ignore[override]
        composed = dict(cdict or {})
        composed.update(kwargs)
        composed.pop("ActionID", None)
        return composed

    def close(self) -> None:
        """Nothing to close: the composer never connects."""

    def core_show_channels(self) -> dict[str, Any]:
        return self.send_action({"Action": "CoreShowChannels"})

    def status_all(self) -> dict[str, Any]:
        return self.send_action({"Action": "Status"})


composer = ActionComposer()
