"""Readable text from an HTML mail body, for messages that carry no text/plain part.

Scripts, styles and the head are dropped; block elements and ``<br>`` become line breaks, list items
get a dash, links keep their address when it differs from their text.  Entities are decoded.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

_BLOCKS = {
    "p", "div", "br", "tr", "table", "ul", "ol", "li", "h1", "h2", "h3", "h4", "h5", "h6",
    "blockquote", "pre", "hr", "section", "article", "header", "footer", "address",
}
_HIDDEN = {"script", "style", "head", "title", "template"}
_BLANK_LINES = re.compile(r"\n\s*\n\s*\n+")
_SPACES = re.compile(r"[ \t\f\v\u00a0]+")


class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.chunks: list[str] = []
        self._hidden_depth = 0
        self._href: str | None = None
        self._link_text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HIDDEN:
            self._hidden_depth += 1
        elif tag in _BLOCKS:
            self.chunks.append("\n")
            if tag == "li":
                self.chunks.append("- ")
        elif tag == "a":
            self._href = dict(attrs).get("href")
            self._link_text = []
        elif tag in ("td", "th"):
            self.chunks.append("\t")

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN:
            self._hidden_depth = max(0, self._hidden_depth - 1)
        elif tag in _BLOCKS:
            self.chunks.append("\n")
        elif tag == "a" and self._href:
            text = "".join(self._link_text).strip()
            if self._href.startswith(("http:", "https:", "mailto:")) and self._href.removeprefix("mailto:") != text:
                self.chunks.append(f" ({self._href})")
            self._href = None

    def handle_data(self, data: str) -> None:
        if self._hidden_depth:
            return
        self.chunks.append(data)
        if self._href is not None:
            self._link_text.append(data)


def html_to_text(html: str) -> str:
    """The visible text of ``html``, one paragraph per line."""
    collector = _TextCollector()
    collector.feed(html)
    collector.close()
    lines = (_SPACES.sub(" ", line).strip() for line in "".join(collector.chunks).splitlines())
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()
