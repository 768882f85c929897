"""Media samples made in the test run: a phone photo with GPS EXIF, a PDF, DOCX files, a zip bomb."""

from __future__ import annotations

import io
import zipfile

from PIL import Image

GPS_IFD = 0x8825


def photo(width: int = 640, height: int = 480, *, gps: bool = True, orientation: int = 1,
          trailer: bytes = b"", quality: int = 90, noise: bool = False) -> bytes:
    """Return a JPEG with camera EXIF (GPS position, make, orientation) and an optional trailer."""
    if noise:
        import os

        image = Image.frombytes("RGB", (width, height), os.urandom(width * height * 3))
    else:
        image = Image.new("RGB", (width, height), (200, 120, 40))
        for x in range(0, width, 16):
            image.paste((20, 80, 200), (x, 0, x + 4, height))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0112] = orientation
    if gps:
        exif.get_ifd(GPS_IFD).update({1: "N", 2: (39.0, 54.0, 27.0), 3: "E", 4: (116.0, 23.0, 5.0)})
    buf = io.BytesIO()
    image.save(buf, "JPEG", exif=exif, quality=quality, comment=b"secret comment")
    return buf.getvalue() + trailer


def png(text: str = "GPS 39.9,116.4") -> bytes:
    """Return a PNG with a text chunk."""
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("Comment", text)
    buf = io.BytesIO()
    Image.new("RGB", (32, 32), (1, 2, 3)).save(buf, "PNG", pnginfo=info)
    return buf.getvalue()


def pdf(extra: bytes = b"") -> bytes:
    """Return a small one-page PDF."""
    body = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R" + extra + b">>endobj\n"
            b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
            b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\n"
            b"trailer<</Root 1 0 R>>\n%%EOF\n")
    return body


def docx(payload: bytes = b"<w:document/>", extra: dict[str, bytes] | None = None) -> bytes:
    """Return a minimal DOCX-shaped zip."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", payload)
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return buf.getvalue()


def zip_bomb(unpacked: int = 200_000_000) -> bytes:
    """Return a DOCX-shaped zip that unpacks to ``unpacked`` bytes of zeros."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("word/document.xml", "w", force_zip64=True) as member:
            chunk = b"\0" * (1 << 20)
            for _ in range(unpacked // len(chunk)):
                member.write(chunk)
    return buf.getvalue()
