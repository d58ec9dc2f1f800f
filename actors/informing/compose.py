"""A rendered message as the :class:`channels.base.Outbound` of one channel."""

from __future__ import annotations

from channels.base import Address, Button, Outbound
from routing.informing.config import ADDRESS_KIND
from routing.informing.templates import RenderedMessage


def outbound_for(message_id: int, channel: str, address: str, rendered: RenderedMessage, sms_sender: str,
                 unsubscribe_url: str | None = None) -> Outbound:
    """The same message id and channel always give the same dedupe key: a send repeated after a crash is
    the same message to the channel (for e-mail, the same Message-ID)."""
    dedupe_key = f"outbox:{message_id}:{channel}"
    metadata: dict[str, object] = {"automatic": True, "outbox_id": message_id}
    buttons: tuple[tuple[Button, ...], ...] = ()
    if rendered.html:
        metadata["html"] = rendered.html
    if rendered.image_url:
        metadata["image_url"] = rendered.image_url
    if rendered.button_text and rendered.button_url:
        buttons = ((Button(rendered.button_text, rendered.button_url),),)
    if channel == "email" and unsubscribe_url:
        metadata["list_unsubscribe"] = unsubscribe_url
    if channel == "sms" and sms_sender:
        metadata["sender"] = sms_sender
    thread_key = f"email:informing-{message_id}" if channel == "email" else f"{channel}:{address}"
    return Outbound(channel=channel, thread_key=thread_key,  # type: ignore[arg-type]
                    recipient=Address(ADDRESS_KIND[channel], address), text=rendered.text,  # type: ignore[arg-type]
                    dedupe_key=dedupe_key, subject=rendered.subject, buttons=buttons, metadata=metadata)
