"""A Telegram Bot API server speaking the real wire format, with a driver that plays Telegram users."""

from channels.sandbox.telegram.sandbox import TelegramSandbox, demo_users
from channels.sandbox.telegram.state import BotApiError, SandboxUser

__all__ = ["BotApiError", "SandboxUser", "TelegramSandbox", "demo_users"]
