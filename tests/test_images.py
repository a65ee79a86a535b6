"""Receipt photos keep their pixels and nothing else: no GPS, device or comments, no data hidden in
APP segments or private chunks, no decompression bomb; the picture stays, upright."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image, PngImagePlugin
from survey.shopper import images
from survey.shopper.images import TooManyPixels, clean_photo

GPS_IFD = 0x8825


def exif(orientation: int | None = None) -> Image.Exif:
    data = Image.Exif()
    data[0x010F] = "PhoneMaker"  # Make
    data[0x0110] = "Phone 12"  # Model
    data[0x0132] = "2026:11:02 10:15:00"  # DateTime
    if orientation:
        data[0x0112] = orientation
    data.get_ifd(GPS_IFD).update({1: "N", 2: (51.0, 30.0, 0.0), 3: "W", 4: (0.0, 7.0, 0.0)})
    return data


def picture() -> Image.Image:
    image = Image.new("RGB", (64, 48), (200, 30, 30))
    image.paste((30, 30, 200), (0, 0, 32, 24))
    return image


def jpeg(orientation: int | None = None, trailer: bytes = b"") -> bytes:
    out = io.BytesIO()
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:Description GPSLatitude="51,30N"/></x:xmpmeta>'
    picture().save(out, "JPEG", exif=exif(orientation), comment=b"taken at 1 High St", xmp=xmp, quality=90)
    return out.getvalue() + trailer


def opened(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


SECRET = b"SECRET-PAYLOAD-1234"


def close(a: Image.Image, b: Image.Image, tolerance: float = 6) -> bool:
    """The same picture within lossy encoding: channels differ by ``tolerance`` on average (colour
    edges blur a little under chroma subsampling; a different picture differs by ~100)."""
    x, y = a.convert("RGB").tobytes(), b.convert("RGB").tobytes()
    return a.size == b.size and sum(abs(p - q) for p, q in zip(x, y)) / len(x) <= tolerance


def segment(marker: int, body: bytes) -> bytes:
    return bytes([0xFF, marker]) + struct.pack(">H", len(body) + 2) + body


def chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def test_a_jpeg_loses_gps_device_comment_and_xmp_but_keeps_its_picture():
    original = jpeg()
    cleaned, kind = clean_photo(original, "image/jpeg")
    assert kind == "image/jpeg"
    for secret in (b"PhoneMaker", b"Phone 12", b"taken at", b"GPSLatitude", b"Exif\x00\x00"):
        assert secret in original and secret not in cleaned
    image = opened(cleaned)
    assert not image.getexif()
    assert close(image, opened(original))


def test_data_hidden_in_a_jpegs_app_segments_is_not_stored():
    """A payload in JFIF's own APP0, an unknown APP11, a fake ICC APP2 and a comment: all gone."""
    original = jpeg()
    hidden = (segment(0xE0, b"JFXX\x00" + SECRET) + segment(0xEB, SECRET) + segment(0xEF, SECRET)
              + segment(0xE2, b"ICC_PROFILE\x00\x01\x01" + SECRET) + segment(0xFE, SECRET))
    tampered = original[:2] + hidden + original[2:] + SECRET  # and after the end of the image
    assert opened(tampered).size == (64, 48)  # still a photo any viewer shows
    cleaned, _ = clean_photo(tampered, "image/jpeg")
    assert SECRET not in cleaned
    assert close(opened(cleaned), opened(original))


def test_data_hidden_in_a_pngs_private_chunks_is_not_stored():
    out = io.BytesIO()
    picture().save(out, "PNG")
    original = out.getvalue()
    iend = original.rindex(b"IEND") - 4
    tampered = original[:33] + chunk(b"prVt", SECRET) + chunk(b"tEXt", b"Note\x00" + SECRET) + original[33:iend] \
        + chunk(b"zzZz", SECRET) + original[iend:] + SECRET
    assert opened(tampered).size == (64, 48)
    cleaned, kind = clean_photo(tampered, "image/png")
    assert kind == "image/png" and SECRET not in cleaned
    assert opened(cleaned).tobytes() == opened(original).convert("RGB").tobytes()  # PNG: not a pixel lost


def test_a_png_loses_its_text_and_exif_chunks():
    out = io.BytesIO()
    info = PngImagePlugin.PngInfo()
    info.add_text("Location", "1 High St")
    info.add_itxt("Author", "Shopper")
    picture().save(out, "PNG", pnginfo=info, exif=exif())
    original = out.getvalue()
    cleaned, _ = clean_photo(original, "image/png")
    for secret in (b"1 High St", b"Shopper", b"PhoneMaker", b"eXIf", b"tEXt", b"iTXt"):
        assert secret in original and secret not in cleaned


def test_a_webp_loses_its_exif_and_xmp_chunks():
    out = io.BytesIO()
    picture().save(out, "WEBP", exif=exif(), xmp=b"<x:xmpmeta>GPS</x:xmpmeta>", lossless=True)
    original = out.getvalue()
    cleaned, kind = clean_photo(original, "image/webp")
    assert kind == "image/webp"
    assert b"PhoneMaker" in original and b"PhoneMaker" not in cleaned
    assert b"XMP " in original and b"XMP " not in cleaned
    image = opened(cleaned)
    assert "exif" not in image.info and "xmp" not in image.info
    assert close(image, opened(original))


def test_a_jpeg_taken_sideways_is_stored_upright_without_its_orientation_tag():
    cleaned, _ = clean_photo(jpeg(orientation=6), "image/jpeg")  # 6: rotate 90° clockwise to show
    image = opened(cleaned)
    assert image.size == (48, 64)
    assert not image.getexif()
    # The blue quarter (top left as taken) is now top right.
    assert image.getpixel((40, 8))[2] > 150 and image.getpixel((8, 56))[0] > 150


def test_pictures_appended_after_the_jpeg_go_too():
    # Phones append more pictures (depth maps, previews), each with its own metadata.
    cleaned, _ = clean_photo(jpeg(trailer=jpeg()), "image/jpeg")
    assert cleaned.count(b"\xff\xd8") == 1 and b"PhoneMaker" not in cleaned


def test_a_colour_profile_is_applied_then_dropped():
    out = io.BytesIO()
    from PIL import ImageCms

    lab = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    picture().save(out, "JPEG", icc_profile=lab + SECRET, quality=95)
    cleaned, _ = clean_photo(out.getvalue(), "image/jpeg")
    assert SECRET not in cleaned and b"ICC_PROFILE" not in cleaned


@pytest.mark.parametrize("data, kind", [
    (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64, "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 64, "image/png"),
    (b"RIFF\xff\x00\x00\x00WEBPVP8 \x50\x00\x00\x00" + b"\x00" * 8, "image/webp"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (jpeg()[:-300], "image/jpeg"),  # cut off: refused rather than stored with what it holds
])
def test_files_that_cannot_be_decoded_are_refused(data, kind):
    assert clean_photo(data, kind) is None


@pytest.mark.parametrize("options", [{"progressive": True}, {"restart_marker_blocks": 2}])
def test_progressive_and_restart_marked_jpegs_keep_their_picture(options):
    out = io.BytesIO()
    picture().save(out, "JPEG", exif=exif(), **options)
    cleaned, _ = clean_photo(out.getvalue(), "image/jpeg")
    assert b"PhoneMaker" not in cleaned
    assert close(opened(cleaned), opened(out.getvalue()))


def bomb_png(side: int = 30000) -> bytes:
    """A grey PNG of side x side pixels (900 MP at 30000): 0.9 MB on disk, 2.7 GB decoded as RGB."""
    row = b"\x00" + b"\x00" * side  # filter byte, then one byte per pixel (8-bit grey)
    packer = zlib.compressobj(9)
    data = b"".join(packer.compress(row) for _ in range(side)) + packer.flush()
    header = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")


@pytest.fixture(scope="module")
def bomb() -> bytes:
    return bomb_png()


def test_a_decompression_bomb_is_refused_before_decoding(bomb):
    assert len(bomb) < 1024 * 1024
    with pytest.raises(TooManyPixels):
        clean_photo(bomb, "image/png")


def test_a_photo_just_over_the_pixel_limit_is_refused_and_one_under_is_kept(monkeypatch):
    monkeypatch.setattr(images, "MAX_PIXELS", 64 * 48 - 1)
    with pytest.raises(TooManyPixels):
        clean_photo(jpeg(), "image/jpeg")
    monkeypatch.setattr(images, "MAX_PIXELS", 64 * 48)
    assert clean_photo(jpeg(), "image/jpeg") is not None


def heic(orientation: int | None = None) -> bytes:
    """A HEIC photo as a phone writes one: EXIF with the place and the device, and XMP."""
    out = io.BytesIO()
    picture().save(out, "HEIF", exif=exif(orientation).tobytes(), quality=90,
                   xmp=b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:Description GPSLatitude="51,30N"/></x:xmpmeta>')
    return out.getvalue()


def test_a_heic_photo_becomes_a_jpeg_without_place_or_device():
    original = heic()
    assert b"PhoneMaker" in original and b"GPSLatitude" in original
    cleaned, kind = clean_photo(original, "image/heic")
    assert kind == "image/jpeg" and cleaned.startswith(b"\xff\xd8\xff")
    for secret in (b"PhoneMaker", b"Phone 12", b"GPSLatitude", b"Exif\x00\x00", b"xmpmeta"):
        assert secret not in cleaned
    image = opened(cleaned)
    assert image.size == (64, 48) and "exif" not in image.info
    # The same picture (lossy both ways): the blue quarter top left, red elsewhere.
    assert image.getpixel((8, 6))[2] > 150 and image.getpixel((50, 40))[0] > 150


def test_a_heic_photo_taken_sideways_is_stored_upright():
    cleaned, _ = clean_photo(heic(orientation=6), "image/heic")  # 6: rotate 90° clockwise to show
    image = opened(cleaned)
    assert image.size == (48, 64)
    assert image.getexif().get(0x0112) in (None, 1)


@pytest.mark.parametrize("data", [
    b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64,  # the header only
    heic()[:200],  # cut off
])
def test_a_heic_that_cannot_be_decoded_is_refused(data):
    assert clean_photo(data, "image/heic") is None


def test_a_heic_with_more_pixels_than_any_phone_takes_is_refused_before_decoding(monkeypatch):
    """HEVC packs a huge plain picture into a few KB: the size limit of uploads does not bound
    what decoding it would take, so the pixel count from the header does."""
    assert clean_photo(heic(), "image/heic") is not None
    monkeypatch.setattr(images, "MAX_PIXELS", 64 * 48 - 1)  # one pixel short of the test photo
    with pytest.raises(TooManyPixels):
        clean_photo(heic(), "image/heic")
