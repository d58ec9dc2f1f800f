"""Where files too large to travel inside an ``Inbound`` are kept: a content-addressed spool directory.

Small files ride along as bytes; larger ones are written once under their SHA-256 (so a redelivered
message writes nothing new) and travel as a ``file://`` URL.  Nothing is dropped for its size.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from channels.base import Attachment


class AttachmentSpool:
    """Keeps attachment bytes: inline up to ``inline_max_bytes``, in ``directory`` above that."""

    def __init__(self, directory: Path, inline_max_bytes: int) -> None:
        self.directory = directory
        self.inline_max_bytes = inline_max_bytes

    def store(self, data: bytes, suffix: str = "") -> str:
        """Write ``data`` (once) and return its ``file://`` URL."""
        digest = hashlib.sha256(data).hexdigest()
        safe_suffix = "".join(ch for ch in suffix if ch.isalnum() or ch in "._-")[-16:]
        path = (self.directory / digest[:2] / f"{digest}{safe_suffix}").resolve()
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".incoming-")
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(data)
                os.replace(tmp, path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        return path.as_uri()

    def attachment(self, filename: str, content_type: str, data: bytes) -> Attachment:
        if len(data) <= self.inline_max_bytes:
            return Attachment(filename=filename, content_type=content_type, size=len(data), data=data)
        url = self.store(data, Path(filename).suffix)
        return Attachment(filename=filename, content_type=content_type, size=len(data), url=url)
