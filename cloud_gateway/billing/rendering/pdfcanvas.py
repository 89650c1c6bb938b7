"""reportlab canvas pieces PDF/A-3 needs and reportlab lacks: embedded font, output intent, QR.

The font is Bitstream Vera Sans, a TrueType font that ships inside reportlab, embedded as a
subset. Bold is the same face filled and stroked (text render mode 2): a second embedded face
costs a quarter of a document's time and 40 KiB. The GiroCode is drawn as vector rectangles,
one per run of dark modules.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator
from typing import Any, Final, cast

import segno
from PIL import ImageCms
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.pdfdoc import PDFArray, PDFDictionary, PDFName, PDFStream, PDFString
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

__all__ = ["FONT", "add_output_intent", "draw_qr", "draw_text", "register_fonts"]

FONT: Final = "Vera"
_FILL_STROKE: Final = 2  # PDF text render mode: fill, then stroke the outline


@functools.cache
def register_fonts() -> None:
    """Register Vera Sans with reportlab (once per process)."""
    pdfmetrics.registerFont(TTFont(FONT, "Vera.ttf"))


def draw_text(
    canvas: Canvas, x: float, y: float, text: str, *, size: float, bold: bool, right: bool = False
) -> None:
    """One line of text at ``x`` (its right end when ``right``); bold is stroked (mode 2)."""
    if right:
        x -= pdfmetrics.stringWidth(text, FONT, size)
    if not bold:
        canvas.setFont(FONT, size)
        canvas.drawString(x, y, text)
        return
    canvas.saveState()  # render mode and line width are graphics state: keep them local
    canvas.setLineWidth(size * 0.06)
    line = canvas.beginText(x, y)
    line.setFont(FONT, size)
    line.setTextRenderMode(_FILL_STROKE)
    line.textOut(text)
    canvas.drawText(line)
    canvas.restoreState()


@functools.cache
def _srgb_profile() -> bytes:
    """An sRGB ICC profile, made by littlecms (Pillow) rather than shipped as a file."""
    return bytes(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())


def add_output_intent(canvas: Canvas) -> None:
    """The PDF/A output intent (sRGB) that PDF/A needs for device colours.

    reportlab has no API for it: the catalog writes only the keys it lists in
    ``__NoDefault__``, so this catalog's list gets ``OutputIntents`` added.
    """
    document = cast("Any", canvas)._doc  # reportlab exposes its document object only here
    profile = PDFStream(PDFDictionary({"N": 3}), content=_srgb_profile())
    intent = PDFDictionary(
        {
            "Type": PDFName("OutputIntent"),
            "S": PDFName("GTS_PDFA1"),
            "OutputConditionIdentifier": PDFString("sRGB IEC61966-2.1"),
            "Info": PDFString("sRGB IEC61966-2.1"),
            "DestOutputProfile": document.Reference(profile),
        }
    )
    catalog = document.Catalog
    catalog.__NoDefault__ = [*catalog.__NoDefault__, "OutputIntents"]
    catalog.OutputIntents = PDFArray([intent])


def draw_qr(canvas: Canvas, qr: segno.QRCode, x: float, y: float, size: float) -> None:
    """Draw ``qr`` with its quiet zone, one filled rectangle per horizontal run of dark modules.

    The rectangles are written as one literal path in module units (integers), scaled once:
    thousands of ``rect`` calls through reportlab's path object cost more than the rest of the
    page.
    """
    matrix = list(qr.matrix_iter(scale=1, border=4))
    count = len(matrix)
    ops = [
        f"{start} {count - 1 - row_index} {length} 1 re"
        for row_index, row in enumerate(matrix)
        for start, length in _runs(row)
    ]
    canvas.saveState()
    canvas.setFillGray(1)
    canvas.rect(x, y, size, size, stroke=0, fill=1)
    canvas.setFillGray(0)
    canvas.translate(x, y)
    canvas.scale(size / count, size / count)
    canvas.addLiteral("\n".join([*ops, "f"]))
    canvas.restoreState()


def _runs(row: Iterable[int]) -> Iterator[tuple[int, int]]:
    """``(start, length)`` of each run of dark modules in one row."""
    start = -1
    index = 0
    for index, dark in enumerate(row):
        if dark and start < 0:
            start = index
        elif not dark and start >= 0:
            yield start, index - start
            start = -1
    if start >= 0:
        yield start, index + 1 - start
