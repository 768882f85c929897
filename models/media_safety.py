"""Deciding whether received bytes are safe to keep, and cleaning them (docs/media.md).

The type is sniffed from the content, never from a name or a platform's
Content-Type. Pictures lose their metadata (EXIF with GPS, XMP, comments,
the phone's second pictures after the JPEG's end) before they are stored:
JPEG and PNG losslessly, by dropping segments and chunks (the JPEG's
orientation is kept as the one EXIF tag left); WebP and HEIC are re-encoded.
A JPEG is checked by its structure (frame header, every segment, the scan
data running to the end-of-image marker: a truncated or mangled photo is
refused) without decoding 12 megapixels, which would cost more than the
rest together; other pictures are decoded once, so a broken one is refused. Office files are unpacked with a cap (zip bombs) and refused with
macros; PDFs with JavaScript or launch actions are refused.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import io
import struct
import threading
import zipfile

from PIL import Image, ImageOps

# HEIC (iPhone photos) is read when the libheif wheel is there; it is imported at the first HEIC
# picture (~4 MB a web worker spares until then)
HEIC = importlib.util.find_spec("pillow_heif") is not None
_heif_lock = threading.Lock()
_heif_registered: list[bool] = []


def _register_heif() -> None:
    with _heif_lock:
        if not _heif_registered:
            import pillow_heif

            pillow_heif.register_heif_opener()
            _heif_registered.append(True)


IMAGE, FILE, AUDIO, VIDEO = "image", "file", "audio", "video"
_ORIENTATION = 0x0112
_MP4_BRANDS = {b"isom", b"iso2", b"iso4", b"iso5", b"iso6", b"mp41", b"mp42", b"avc1", b"M4V ", b"qt  ",
               b"3gp4", b"3gp5", b"3gp6", b"3g2a", b"dash", b"MSNV"}
_HEIC_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"}
# PNG chunks kept: what draws the picture. Text, EXIF and time chunks go.
_PNG_KEEP = {b"IHDR", b"PLTE", b"IDAT", b"IEND", b"tRNS", b"gAMA", b"cHRM", b"sRGB", b"iCCP", b"sBIT",
             b"pHYs", b"bKGD", b"acTL", b"fcTL", b"fdAT"}
_PDF_ACTIVE = (b"/JavaScript", b"/JS ", b"/JS(", b"/JS<", b"/Launch", b"/EmbeddedFile")


class MediaRefused(ValueError):
    """The bytes are not kept; ``reason`` names the answer (config/media.yaml ``refused``)."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


@dataclasses.dataclass(frozen=True)
class Checked:
    """Bytes fit to store, with what they are."""

    data: bytes
    kind: str  # image | file | audio | video
    mime: str
    ext: str


@dataclasses.dataclass(frozen=True)
class Limits:
    """What ``check`` accepts (from ``media`` settings)."""

    max_bytes: int = 10_485_760
    max_unzipped_bytes: int = 100_000_000
    max_pixels: int = 50_000_000


def sniff(data: bytes) -> tuple[str, str, str]:
    """Return (kind, mime, extension) decided from the first bytes; ``bad_type`` otherwise."""
    head = data[:64]
    if head.startswith(b"\xff\xd8\xff"):
        return IMAGE, "image/jpeg", "jpg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return IMAGE, "image/png", "png"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return IMAGE, "image/gif", "gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return IMAGE, "image/webp", "webp"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in _HEIC_BRANDS:
            return IMAGE, "image/heic", "heic"
        if brand in _MP4_BRANDS:
            return VIDEO, "video/mp4", "mp4"
    if head.startswith(b"%PDF-"):
        return FILE, "application/pdf", "pdf"
    if head.startswith(b"PK\x03\x04"):
        return FILE, "application/zip", "zip"  # refined to DOCX/XLSX by _check_office
    if head.startswith((b"#!AMR\n", b"#!AMR-WB\n")):
        return AUDIO, "audio/amr", "amr"
    if head.startswith((b"#!SILK_V3", b"\x02#!SILK_V3")):  # WeChat voice: SILK with a 0x02 prefix
        return AUDIO, "audio/silk", "silk"
    raise MediaRefused("bad_type", head[:8].hex())


DEFAULT_LIMITS = Limits()


def check(data: bytes, limits: Limits = DEFAULT_LIMITS) -> Checked:
    """Return the bytes to store (cleaned), or raise ``MediaRefused``."""
    if len(data) > limits.max_bytes:
        raise MediaRefused("too_big", str(len(data)))
    if not data:
        raise MediaRefused("broken", "empty")
    kind, mime, ext = sniff(data)
    if mime == "image/jpeg":
        return Checked(_clean_jpeg(data, limits), kind, mime, ext)
    if mime == "image/png":
        return Checked(_clean_png(data, limits), kind, mime, ext)
    if mime == "image/gif":
        _decode(data, limits)  # GIF has no EXIF; the frames are kept as sent
        return Checked(data, kind, mime, ext)
    if mime == "image/webp":
        return Checked(_reencode(data, limits, "WEBP"), kind, mime, ext)
    if mime == "image/heic":
        if not HEIC:
            raise MediaRefused("bad_type", "heic without pillow-heif")
        _register_heif()
        return Checked(_reencode(data, limits, "JPEG"), kind, "image/jpeg", "jpg")
    if mime == "application/pdf":
        _check_pdf(data)
        return Checked(data, kind, mime, ext)
    if mime == "application/zip":
        mime, ext = _check_office(data, limits)
        return Checked(data, kind, mime, ext)
    return Checked(data, kind, mime, ext)


def _open(data: bytes, limits: Limits) -> Image.Image:
    try:
        image = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as exc:
        raise MediaRefused("too_big", str(exc)[:200]) from None
    except (OSError, ValueError, SyntaxError, struct.error) as exc:
        raise MediaRefused("broken", str(exc)[:200]) from None
    width, height = image.size
    if width * height > limits.max_pixels or not width or not height:
        raise MediaRefused("too_big", f"{width}x{height}")
    return image


def _decode(data: bytes, limits: Limits, draft: bool = False) -> Image.Image:
    """Open and decode the picture (a JPEG at 1/8 scale when ``draft``): broken ones raise ``broken``."""
    image = _open(data, limits)
    try:
        if draft:
            image.draft("RGB", (max(1, image.size[0] // 8), max(1, image.size[1] // 8)))
        image.load()
    except Image.DecompressionBombError as exc:
        raise MediaRefused("too_big", str(exc)[:200]) from None
    except (OSError, ValueError, SyntaxError, struct.error, EOFError) as exc:
        raise MediaRefused("broken", str(exc)[:200]) from None
    return image


def _clean_jpeg(data: bytes, limits: Limits) -> bytes:
    """Drop APPn (but JFIF, ICC and Adobe) and COM segments and whatever follows the end of the picture."""
    image = _open(data, limits)  # the frame header, and the pixel cap before anything else
    try:
        orientation = image.getexif().get(_ORIENTATION, 1)
    except (OSError, ValueError, SyntaxError, struct.error):
        orientation = 1  # unreadable EXIF: it is dropped anyway
    scanned = False
    out = bytearray(b"\xff\xd8")
    if orientation in range(2, 9):
        exif = Image.Exif()
        exif[_ORIENTATION] = orientation
        payload = exif.tobytes()
        out += b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload
    pos, size = 2, len(data)
    while pos < size:
        if data[pos] != 0xFF:  # entropy-coded data up to the next marker
            nxt = _next_marker(data, pos)
            out += data[pos:nxt]
            pos = nxt
            continue
        marker = data[pos + 1] if pos + 1 < size else 0xD9
        if marker == 0xFF:
            pos += 1
            continue
        if marker == 0xD9:  # end of the picture: MPF second pictures and trailers (with their EXIF) go
            if not scanned:
                raise MediaRefused("broken", "no scan data")
            out += b"\xff\xd9"
            cleaned = bytes(out)
            if _open(cleaned, limits).size != image.size:  # what we kept must still read as the same picture
                raise MediaRefused("broken", "segments do not add up")
            return cleaned
        if marker == 0x01 or 0xD0 <= marker <= 0xD7:
            out += data[pos:pos + 2]
            pos += 2
            continue
        if pos + 4 > size:
            raise MediaRefused("broken", "truncated segment")
        length = struct.unpack(">H", data[pos + 2:pos + 4])[0]
        if length < 2:
            raise MediaRefused("broken", "bad segment length")
        segment = data[pos:pos + 2 + length]
        if len(segment) < 2 + length:
            raise MediaRefused("broken", "truncated segment")
        if _keep_segment(marker, segment):
            out += segment
        pos += 2 + length
        if marker == 0xDA:  # start of scan: entropy-coded data follows
            scanned = True
            nxt = _next_marker(data, pos)
            out += data[pos:nxt]
            pos = nxt
    raise MediaRefused("broken", "no end of image")


def _next_marker(data: bytes, pos: int) -> int:
    """Return where the next real marker starts after entropy-coded data (skips FF00 and RSTn)."""
    while True:
        found = data.find(b"\xff", pos)
        if found < 0 or found + 1 >= len(data):
            return len(data)
        following = data[found + 1]
        if following == 0x00 or 0xD0 <= following <= 0xD7 or following == 0xFF:
            pos = found + 1 if following == 0xFF else found + 2
            continue
        return found


def _keep_segment(marker: int, segment: bytes) -> bool:
    body = segment[4:]
    if marker == 0xFE:  # COM
        return False
    if marker == 0xE0:
        return body.startswith(b"JFIF\x00")
    if marker == 0xE2:
        return body.startswith(b"ICC_PROFILE\x00")
    if marker == 0xEE:
        return body.startswith(b"Adobe")  # colour transform of CMYK/YCCK pictures
    return not 0xE1 <= marker <= 0xEF


def _clean_png(data: bytes, limits: Limits) -> bytes:
    """Keep only the chunks that draw the picture."""
    _decode(data, limits)
    out, pos = bytearray(data[:8]), 8
    while pos + 8 <= len(data):
        length = struct.unpack(">I", data[pos:pos + 4])[0]
        kind = data[pos + 4:pos + 8]
        end = pos + 12 + length
        if end > len(data):
            raise MediaRefused("broken", "truncated chunk")
        if kind in _PNG_KEEP:
            out += data[pos:end]
        pos = end
        if kind == b"IEND":
            return bytes(out)
    raise MediaRefused("broken", "no IEND")


def _reencode(data: bytes, limits: Limits, fmt: str) -> bytes:
    """Decode and save again without any metadata (orientation applied to the pixels)."""
    image = ImageOps.exif_transpose(_decode(data, limits))
    if fmt == "JPEG" and image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    buf = io.BytesIO()
    image.save(buf, fmt, quality=88)
    return buf.getvalue()


def _check_pdf(data: bytes) -> None:
    if b"%%EOF" not in data[-2048:]:
        raise MediaRefused("broken", "no %%EOF")
    if any(word in data for word in _PDF_ACTIVE):
        raise MediaRefused("script", "active PDF content")


def _check_office(data: bytes, limits: Limits) -> tuple[str, str]:
    """Return the DOCX/XLSX mime and extension after unpacking with a cap; refuse macros and bombs."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise MediaRefused("broken", str(exc)[:200]) from None
    if "[Content_Types].xml" not in names:
        raise MediaRefused("bad_type", "zip, not office")
    if "word/document.xml" in names:
        found = ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx")
    elif "xl/workbook.xml" in names:
        found = ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx")
    else:
        raise MediaRefused("bad_type", "office file neither docx nor xlsx")
    if any(name.lower().endswith("vbaproject.bin") for name in names):
        raise MediaRefused("script", "macros")
    if len(names) > 5000:
        raise MediaRefused("zip_bomb", f"{len(names)} entries")
    total = 0
    try:  # the declared sizes may lie: count what really comes out
        for info in archive.infolist():
            with archive.open(info) as member:
                while chunk := member.read(1 << 16):
                    total += len(chunk)
                    if total > limits.max_unzipped_bytes:
                        raise MediaRefused("zip_bomb", f"over {limits.max_unzipped_bytes} bytes unpacked")
    except MediaRefused:
        raise
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError) as exc:
        raise MediaRefused("broken", str(exc)[:200]) from None
    return found
