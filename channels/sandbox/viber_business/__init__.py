"""A sandbox Viber Business aggregator (Infobip's Viber API shape) with signed delivery and seen reports."""

from channels.sandbox.viber_business.server import AggregatorState, SentMessage, ViberBusinessAggregator

__all__ = ["AggregatorState", "SentMessage", "ViberBusinessAggregator"]
