"""Receipt photos without what the camera wrote about them: place, device, time (EXIF, XMP, IPTC).

For JPEG, PNG and WebP the image data is left untouched (no re-encoding, so no quality lost
and no decoder run on the pixels): only metadata segments are dropped. A JPEG keeps its
orientation, re-written as the one tag of a minimal EXIF block, so a photo taken sideways
still shows upright. HEIC (an iPhone's own format) is decoded and stored as a JPEG without
metadata (``clean_photo``): its EXIF sits in items of the HEIF container that can't be cut
out without rewriting it, and browsers other than Safari can't show HEIC to HQ anyway.
"""

from __future__ import annotations

import io
import struct

import pillow_heif
from PIL import Image

pillow_heif.register_heif_opener()
# A receipt photo needs its main picture only, decoded on one thread per request.
pillow_heif.options.THUMBNAILS = False
pillow_heif.options.DEPTH_IMAGES = False
pillow_heif.options.AUX_IMAGES = False
pillow_heif.options.DECODE_THREADS = 1

#: The largest photo decoded (an iPhone's largest is 48 MP). HEVC packs a plain 8192 x 8192
#: picture into 15 KB, so the upload's size limit does not bound the memory a decode takes
#: (measured: 620 MB for that file); the header gives the size before anything is decoded.
MAX_PIXELS = 50_000_000

#: JPEG markers kept before the image data: JFIF/JFXX (APP0), colour profile (APP2 ICC_PROFILE),
#: Adobe colour transform (APP14), and the tables and frame headers the decoder needs.
_KEPT_APP = {0xE0, 0xEE}
#: PNG chunks that carry metadata rather than the image.
_PNG_DROPPED = {b"eXIf", b"tEXt", b"zTXt", b"iTXt", b"tIME"}
ORIENTATION = 0x0112


#: Signs of metadata in a file the parsers above could not follow: EXIF and XMP payloads,
#: PNG text chunks, WebP's EXIF and XMP chunks.
METADATA_MARKS = (b"Exif\x00", b"<x:xmpmeta", b"http://ns.adobe.com/xap/", b"eXIf", b"tEXt", b"zTXt", b"iTXt",
                  b"EXIF", b"XMP ")


def clean_photo(data: bytes, content_type: str) -> tuple[bytes, str] | None:
    """Return the photo without metadata and its type now, or None when it can't be read."""
    if content_type == "image/heic":
        jpeg = _heic_as_jpeg(data)
        return None if jpeg is None else (jpeg, "image/jpeg")
    cleaned = strip_exif(data, content_type)
    return None if cleaned is None else (cleaned, content_type)


def _heic_as_jpeg(data: bytes) -> bytes | None:
    """Decode a HEIC photo upright (libheif applies its rotation) and encode it as a JPEG that
    carries only its colour profile: no EXIF, XMP or thumbnails are passed on."""
    try:
        with Image.open(io.BytesIO(data), formats=["HEIF"]) as image:
            if image.width * image.height > MAX_PIXELS:
                return None
            icc = image.info.get("icc_profile")
            pixels = image.convert("RGB")  # decodes
    except Exception:  # noqa: BLE001 - libheif and Pillow raise many kinds for a bad file
        return None
    out = io.BytesIO()
    pixels.save(out, "JPEG", quality=88, **({"icc_profile": icc} if icc else {}))
    return out.getvalue()


def strip_exif(data: bytes, content_type: str) -> bytes | None:
    """Return the photo without its metadata, or None when it can't be read and may hold some.

    Other types come back unchanged (HEIC goes through clean_photo). A damaged file (cut off, a byte too many) that
    shows signs of metadata is refused rather than stored with it: fail closed, since the
    metadata may be where the shopper lives.
    """
    try:
        if content_type == "image/jpeg":
            return _jpeg(data)
        if content_type == "image/png":
            return _png(data)
        if content_type == "image/webp":
            return _webp(data)
    except (ValueError, IndexError, struct.error):
        if any(mark in data for mark in METADATA_MARKS):
            return None
    return data


def _orientation(data: bytes) -> int:
    """Read the EXIF orientation (1-8) of a JPEG from its headers; 1 when absent or unreadable."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            value = image.getexif().get(ORIENTATION, 1)
    except Exception:  # noqa: BLE001 - any unreadable header means "as stored"
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def _orientation_segment(value: int) -> bytes:
    """Build an APP1 EXIF segment holding only the orientation tag (big-endian TIFF, one IFD entry)."""
    tiff = b"MM\x00\x2a" + struct.pack(">I", 8) + struct.pack(">H", 1)
    tiff += struct.pack(">HHIHH", ORIENTATION, 3, 1, value, 0) + struct.pack(">I", 0)
    body = b"Exif\x00\x00" + tiff
    return b"\xff\xe1" + struct.pack(">H", len(body) + 2) + body


def _jpeg(data: bytes) -> bytes:
    if not data.startswith(b"\xff\xd8"):
        raise ValueError("not a JPEG")
    orientation = _orientation(data)
    out = bytearray(b"\xff\xd8")
    # Placed after JFIF's APP0 when there is one (JFIF wants to come first), else at the start.
    pending = _orientation_segment(orientation) if orientation != 1 else b""
    i = 2
    while i < len(data):
        if pending and not (data[i:i + 2] == b"\xff\xe0" and len(out) == 2):
            out += pending
            pending = b""
        if data[i] != 0xFF:
            raise ValueError("lost in the segments")
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker == 0xD9:  # end of image: anything after it (a second picture, a trailer) goes
            out += b"\xff\xd9"
            return bytes(out)
        if marker in (0x01,) or 0xD0 <= marker <= 0xD7:
            out += data[i:i + 2]
            i += 2
            continue
        (length,) = struct.unpack(">H", data[i + 2:i + 4])
        segment = data[i:i + 2 + length]
        if len(segment) != 2 + length or length < 2:
            raise ValueError("truncated segment")
        if marker == 0xDA:
            # Start of scan: the compressed image follows; copy up to the end-of-image marker.
            end = _scan_end(data, i + 2 + length)
            out += data[i:end]
            i = end
            continue
        if _keep_jpeg_segment(marker, segment[4:]):
            out += segment
        i += 2 + length
    raise ValueError("no end of image")


def _keep_jpeg_segment(marker: int, body: bytes) -> bool:
    if marker == 0xE2:
        return body.startswith(b"ICC_PROFILE\x00")  # not MPF: it points at the pictures dropped after EOI
    if 0xE0 <= marker <= 0xEF:
        return marker in _KEPT_APP
    return marker != 0xFE  # comments go; tables, frame headers and the rest stay


def _scan_end(data: bytes, start: int) -> int:
    """Return the offset of the marker ending the entropy-coded data (RSTn and stuffed 0xFF00 don't end it)."""
    i = start
    while True:
        i = data.index(b"\xff", i)
        following = data[i + 1]
        if following == 0x00 or 0xD0 <= following <= 0xD7 or following == 0xFF:
            i += 1 if following == 0xFF else 2
            continue
        return i


def _png(data: bytes) -> bytes:
    signature = b"\x89PNG\r\n\x1a\n"
    if not data.startswith(signature):
        raise ValueError("not a PNG")
    out = bytearray(signature)
    i = len(signature)
    while i < len(data):
        (length,) = struct.unpack(">I", data[i:i + 4])
        kind = data[i + 4:i + 8]
        chunk = data[i:i + 12 + length]
        if len(chunk) != 12 + length:
            raise ValueError("truncated chunk")
        if kind not in _PNG_DROPPED:
            out += chunk
        i += 12 + length
        if kind == b"IEND":
            return bytes(out)
    raise ValueError("no IEND")


def _webp(data: bytes) -> bytes:
    if data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        raise ValueError("not a WebP")
    end = 8 + struct.unpack("<I", data[4:8])[0]
    if end != len(data) or data[12:16] not in (b"VP8 ", b"VP8L", b"VP8X"):
        raise ValueError("not a well-formed WebP")
    chunks = bytearray()
    i = 12
    while i + 8 <= end:
        kind = data[i:i + 4]
        (size,) = struct.unpack("<I", data[i + 4:i + 8])
        padded = size + (size & 1)
        chunk = bytearray(data[i:i + 8 + padded])
        if len(chunk) < 8 + size:
            raise ValueError("truncated chunk")
        if kind == b"VP8X":
            chunk[8] &= ~0x0C & 0xFF  # the flags say no EXIF (0x08) and no XMP (0x04) any more
        if kind not in (b"EXIF", b"XMP "):
            chunks += chunk
        i += 8 + padded
    return b"RIFF" + struct.pack("<I", 4 + len(chunks)) + b"WEBP" + bytes(chunks)
