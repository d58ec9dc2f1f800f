"""An XLSX workbook written as a stream: rows go out as they come, memory holds one batch.

XLSX is a zip of XML parts.  Python's :mod:`zipfile` writes to a stream that cannot seek (it then puts
each entry's sizes after its data), so the sheet XML is compressed and handed on row batch by row batch
instead of being assembled in memory or in a temporary file as general-purpose writers do.  Strings are
inline (no shared-string table to hold); a sheet that reaches Excel's row limit continues on the next.
"""

from __future__ import annotations

import zipfile
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from xml.sax.saxutils import escape

EXCEL_MAX_ROWS = 1_048_576
_ILLEGAL = {c: None for c in range(32) if c not in (9, 10, 13)}

_CONTENT_TYPES = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>
<Default Extension="xml" ContentType="application/xml"/>
<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>
<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>
{sheets}</Types>"""
_SHEET_TYPE = ('<Override PartName="/xl/worksheets/sheet{n}.xml" '
               'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>\n')
_ROOT_RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>
</Relationships>"""
_STYLES = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">
<numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy-mm-dd hh:mm:ss"/></numFmts>
<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font><font><b/><sz val="11"/><name val="Calibri"/></font></fonts>
<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>
<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>
<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>
<cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>
<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>
<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs>
<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>
</styleSheet>"""
_SHEET_HEAD = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet '
               'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>')
_SHEET_TAIL = "</sheetData></worksheet>"
_EXCEL_EPOCH = datetime(1899, 12, 30)


class _Sink:
    """The non-seekable file zipfile writes into; the caller drains it after each batch."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.written = 0

    def write(self, data: bytes) -> int:
        self.parts.append(bytes(data))
        self.written += len(data)
        return len(data)

    def tell(self) -> int:
        return self.written

    def flush(self) -> None:
        pass

    def drain(self) -> bytes:
        out = b"".join(self.parts)
        self.parts.clear()
        return out


def _cell(value: Any) -> str:
    if value is None:
        return "<c/>"
    if isinstance(value, bool):
        return f'<c t="b"><v>{int(value)}</v></c>'
    if isinstance(value, int | float | Decimal):
        return f"<c><v>{value}</v></c>"
    if isinstance(value, datetime):
        naive = value.replace(tzinfo=None)
        return f'<c s="1"><v>{(naive - _EXCEL_EPOCH).total_seconds() / 86400:.8f}</v></c>'
    if isinstance(value, date):
        return f'<c s="1"><v>{(datetime.combine(value, datetime.min.time()) - _EXCEL_EPOCH).days}</v></c>'
    text = escape(str(value).translate(_ILLEGAL))[:32_767]
    return f'<c t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>'


class XlsxStream:
    """``header`` once, then ``rows`` per batch (each returns the bytes ready to send), then ``close``."""

    def __init__(self, header: Sequence[str], sheet_title: str = "Sheet", max_rows: int = EXCEL_MAX_ROWS) -> None:
        self.header = list(header)
        self.sheet_title = sheet_title
        self.max_rows = max_rows
        self.sink = _Sink()
        self.zip = zipfile.ZipFile(self.sink, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1)
        self.sheets = 0
        self.sheet: Any = None
        self.row_in_sheet = 0

    def _new_sheet(self) -> None:
        if self.sheet is not None:
            self.sheet.write(_SHEET_TAIL.encode())
            self.sheet.close()
        self.sheets += 1
        self.sheet = self.zip.open(f"xl/worksheets/sheet{self.sheets}.xml", "w", force_zip64=True)
        self.sheet.write(_SHEET_HEAD.encode())
        self.row_in_sheet = 0
        self._write_row([f"{h}" for h in self.header], bold=True)

    def _write_row(self, values: Sequence[Any], bold: bool = False) -> None:
        self.row_in_sheet += 1
        if bold:
            cells = "".join(f'<c t="inlineStr" s="2"><is><t>{escape(str(v))}</t></is></c>' for v in values)
        else:
            cells = "".join(_cell(v) for v in values)
        self.sheet.write(f"<row>{cells}</row>".encode())

    def rows(self, batch: Sequence[Sequence[Any]]) -> bytes:
        for values in batch:
            if self.sheet is None or self.row_in_sheet >= self.max_rows:
                self._new_sheet()
            self._write_row(values)
        return self.sink.drain()

    def close(self) -> bytes:
        if self.sheet is None:
            self._new_sheet()
        self.sheet.write(_SHEET_TAIL.encode())
        self.sheet.close()
        names = [f"{self.sheet_title} {n}" if self.sheets > 1 else self.sheet_title for n in range(1, self.sheets + 1)]
        sheets = "".join(f'<sheet name="{escape(name)[:31]}" sheetId="{n}" r:id="rId{n}"/>'
                         for n, name in enumerate(names, start=1))
        self.zip.writestr("xl/workbook.xml", (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<workbook '
            'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            f"<sheets>{sheets}</sheets></workbook>"))
        rels = "".join(f'<Relationship Id="rId{n}" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                       f'relationships/worksheet" Target="worksheets/sheet{n}.xml"/>' for n in range(1, self.sheets + 1))
        rels += (f'<Relationship Id="rId{self.sheets + 1}" Type="http://schemas.openxmlformats.org/officeDocument/'
                 '2006/relationships/styles" Target="styles.xml"/>')
        self.zip.writestr("xl/_rels/workbook.xml.rels", (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships '
            f'xmlns="http://schemas.openxmlformats.org/package/2006/relationships">{rels}</Relationships>'))
        self.zip.writestr("xl/styles.xml", _STYLES)
        self.zip.writestr("_rels/.rels", _ROOT_RELS)
        self.zip.writestr("[Content_Types].xml", _CONTENT_TYPES.format(
            sheets="".join(_SHEET_TYPE.format(n=n) for n in range(1, self.sheets + 1))))
        self.zip.close()
        return self.sink.drain()
