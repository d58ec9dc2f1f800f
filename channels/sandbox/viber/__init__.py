"""A Viber REST server and signed callback sender speaking the real wire format, with a user driver."""

from channels.sandbox.viber.sandbox import ViberSandbox, ViberUser, demo_users
from channels.sandbox.viber.server import CallbackResult

__all__ = ["CallbackResult", "ViberSandbox", "ViberUser", "demo_users"]
