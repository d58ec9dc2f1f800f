"""Keyword matching for chatbot choices: case-insensitive, whole words, ``*`` for a word's ending.

Ukrainian words change their endings (``лічильник``, ``лічильника``, ``лічильнику``), so a keyword
``лічильн*`` matches every form; ``запах газу`` matches that phrase anywhere in the message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_WORD = re.compile(r"\w+(?:['’ʼ]\w+)*", re.UNICODE)


def words_of(text: str) -> tuple[str, ...]:
    return tuple(word.replace("’", "'").replace("ʼ", "'") for word in _WORD.findall(text.casefold()))


@dataclass(frozen=True, slots=True)
class Keyword:
    """One keyword or phrase; each word may end in ``*`` to match any ending."""

    words: tuple[str, ...]
    prefix: tuple[bool, ...]

    @classmethod
    def parse(cls, text: str) -> Keyword:
        parts = text.casefold().split()
        if not parts:
            raise ValueError("a keyword must not be empty")
        stems = tuple(words_of(part.rstrip("*"))[0] if words_of(part.rstrip("*")) else "" for part in parts)
        if not all(stems):
            raise ValueError(f"keyword {text!r} has a part without letters or digits")
        return cls(words=stems, prefix=tuple(part.endswith("*") for part in parts))

    def found_in(self, message: tuple[str, ...]) -> bool:
        first, first_is_prefix = self.words[0], self.prefix[0]
        size = len(self.words)
        for start in range(len(message) - size + 1):
            word = message[start]
            if not (word.startswith(first) if first_is_prefix else word == first):
                continue
            if size == 1 or all(
                    message[start + i].startswith(self.words[i]) if self.prefix[i] else message[start + i] == self.words[i]
                    for i in range(1, size)):
                return True
        return False
