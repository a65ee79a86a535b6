"""Receipt photos stored as pixels and nothing else: no place, device or time, and no hidden data.

Every photo is decoded and encoded anew (``clean_photo``): what a file carries besides its
pixels (EXIF, XMP, IPTC, comments, a JPEG's APP segments, a PNG's private chunks, pictures
appended after the image, bytes hidden in a WebP's chunks) can't survive, whatever its
format, because only the decoded pixels are written back. Cutting metadata out of the file
instead (what this module did before) kept whatever it did not know to cut: a scanner hid a
payload in an APP segment and a private PNG chunk, and both were stored.

The picture is turned upright by its EXIF orientation and converted to sRGB by its colour
profile before both are dropped, so it shows as the phone showed it. JPEG and WebP stay
JPEG and WebP, PNG stays PNG (a receipt screenshot stays sharp); HEIC, an iPhone's own
format, which browsers other than Safari can't show to HQ, becomes a JPEG.

The pixel count is read from the header before anything is decoded, and a photo with more
than MAX_PIXELS is refused: a 0.9 MB PNG can declare 30000 x 30000 pixels (900 MP, 2.7 GB
decoded), so the upload's size limit does not bound the memory a decode takes.
"""

from __future__ import annotations

import io
import warnings

import pillow_heif
from PIL import Image, ImageCms, ImageOps

pillow_heif.register_heif_opener()
# A receipt photo needs its main picture only, decoded on one thread per request.
pillow_heif.options.THUMBNAILS = False
pillow_heif.options.DEPTH_IMAGES = False
pillow_heif.options.AUX_IMAGES = False
pillow_heif.options.DECODE_THREADS = 1

#: The largest photo decoded (an iPhone's largest is 48 MP; decoded as RGB, 150 MB).
MAX_PIXELS = 50_000_000
#: Pillow's name of each accepted type, and what it is stored as.
FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP", "image/heic": "HEIF"}
STORED_AS = {"image/jpeg": "image/jpeg", "image/png": "image/png", "image/webp": "image/webp",
             "image/heic": "image/jpeg"}
#: Quality of the new JPEG and WebP: indistinguishable from a phone's own at receipt scale.
QUALITY = 88
_SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


class TooManyPixels(ValueError):
    """The photo's header declares more pixels than MAX_PIXELS: refused before decoding."""


def clean_photo(data: bytes, content_type: str) -> tuple[bytes, str] | None:
    """Return the photo re-encoded from its pixels and its stored type, or None when it can't be read.

    Raise TooManyPixels for a photo larger than MAX_PIXELS, without decoding it.
    """
    try:
        with warnings.catch_warnings():
            # Pillow warns from 89 MP and refuses from 179 MP; our own limit is lower, and checked first.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=[FORMATS[content_type]])
    except Image.DecompressionBombError:
        raise TooManyPixels(content_type) from None
    except Exception:  # noqa: BLE001 - Pillow and libheif raise many kinds for a file they can't read
        return None
    with image:
        if image.width * image.height > MAX_PIXELS:
            raise TooManyPixels(content_type)
        try:
            pixels = _upright_srgb(image)
        except Exception:  # noqa: BLE001 - a damaged or cut-off file fails while decoding
            return None
    stored = STORED_AS[content_type]
    out = io.BytesIO()
    if stored == "image/png":
        pixels.save(out, "PNG", compress_level=6)
    elif stored == "image/webp":
        pixels.save(out, "WEBP", quality=QUALITY)
    else:
        pixels.convert("RGB").save(out, "JPEG", quality=QUALITY)
    return out.getvalue(), stored


def _upright_srgb(image: Image.Image) -> Image.Image:
    """Decode the first frame, upright by its EXIF orientation, in sRGB; the result holds pixels only."""
    icc = image.info.get("icc_profile")
    upright = ImageOps.exif_transpose(image)  # decodes; a copy without the orientation tag
    mode = "RGBA" if upright.mode in ("RGBA", "LA", "PA") or "transparency" in upright.info else "RGB"
    pixels = upright.convert(mode)
    if icc:
        try:
            pixels = ImageCms.profileToProfile(pixels, ImageCms.ImageCmsProfile(io.BytesIO(icc)), _SRGB,
                                               outputMode=mode)
        except (ImageCms.PyCMSError, OSError, ValueError):
            pass  # a profile littleCMS can't read: the pixels as they are, which is how most viewers show them
    # The pixels alone: nothing read from the file (profile, EXIF, comments, chunks) is written back.
    pixels.info = {}
    return pixels
