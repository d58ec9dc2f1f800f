"""A sandbox SMSC (SMPP 3.4 over TCP) that keeps every message it accepted, for the demo and tests."""

from channels.sandbox.smsc.server import SmscServer
from channels.sandbox.smsc.state import AcceptedPart, Mailbox, WholeMessage

__all__ = ["AcceptedPart", "Mailbox", "SmscServer", "WholeMessage"]
