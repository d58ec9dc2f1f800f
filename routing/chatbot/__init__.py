"""The chatbot front of messenger conversations: hierarchical menus from ``config/chatbot.toml``."""

from routing.chatbot.menu import ChatbotMenu
from routing.chatbot.state import BotReply, BotState, BotTurn, MenuButton, TranscriptLine
from routing.config_source import ConfigError

__all__ = ["BotReply", "BotState", "BotTurn", "ChatbotMenu", "ConfigError", "MenuButton", "TranscriptLine"]
