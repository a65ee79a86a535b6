"""Receipt photos lose their metadata: GPS, device, comments; the picture and its orientation stay."""

from __future__ import annotations

import io

import pytest
from PIL import Image, PngImagePlugin
from survey.shopper.images import clean_photo, strip_exif

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


def test_a_jpeg_loses_gps_device_comment_and_xmp_but_not_a_pixel():
    original = jpeg()
    stripped = strip_exif(original, "image/jpeg")
    assert len(stripped) < len(original)
    for secret in (b"PhoneMaker", b"Phone 12", b"taken at", b"GPSLatitude", b"Exif\x00\x00"):
        assert secret in original and secret not in stripped
    image = opened(stripped)
    assert not image.getexif()
    assert image.tobytes() == opened(original).tobytes()


def test_a_jpeg_keeps_its_orientation_and_nothing_else():
    stripped = strip_exif(jpeg(orientation=6), "image/jpeg")
    image = opened(stripped)
    assert dict(image.getexif()) == {0x0112: 6}
    assert not image.getexif().get_ifd(GPS_IFD)
    assert b"PhoneMaker" not in stripped
    assert stripped[2:4] == b"\xff\xe0"  # JFIF still first


def test_pictures_appended_after_the_jpeg_go_too():
    # Phones append more pictures (depth maps, previews), each with its own metadata.
    stripped = strip_exif(jpeg(trailer=jpeg()), "image/jpeg")
    assert stripped.endswith(b"\xff\xd9") and stripped.count(b"\xff\xd8") == 1
    assert b"PhoneMaker" not in stripped


def test_a_png_loses_its_text_and_exif_chunks():
    out = io.BytesIO()
    info = PngImagePlugin.PngInfo()
    info.add_text("Location", "1 High St")
    info.add_itxt("Author", "Shopper")
    picture().save(out, "PNG", pnginfo=info, exif=exif())
    original = out.getvalue()
    stripped = strip_exif(original, "image/png")
    for secret in (b"1 High St", b"Shopper", b"PhoneMaker", b"eXIf", b"tEXt", b"iTXt"):
        assert secret in original and secret not in stripped
    assert opened(stripped).tobytes() == opened(original).tobytes()


def test_a_webp_loses_its_exif_and_xmp_chunks():
    out = io.BytesIO()
    picture().save(out, "WEBP", exif=exif(), xmp=b"<x:xmpmeta>GPS</x:xmpmeta>", lossless=True)
    original = out.getvalue()
    stripped = strip_exif(original, "image/webp")
    assert b"PhoneMaker" in original and b"PhoneMaker" not in stripped
    assert b"XMP " in original and b"XMP " not in stripped
    image = opened(stripped)
    assert "exif" not in image.info and "xmp" not in image.info
    assert image.tobytes() == opened(original).tobytes()


@pytest.mark.parametrize("data, kind", [
    (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64, "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 64, "image/png"),
    (b"RIFF\xff\x00\x00\x00WEBPVP8 \x50\x00\x00\x00" + b"\x00" * 8, "image/webp"),
    (b"\xff\xd8\xff", "image/jpeg"),
])
def test_files_that_are_not_what_they_claim_come_back_unchanged(data, kind):
    assert strip_exif(data, kind) == data


@pytest.mark.parametrize("options", [{"progressive": True}, {"restart_marker_blocks": 2}])
def test_progressive_and_restart_marked_jpegs_keep_every_pixel(options):
    out = io.BytesIO()
    noisy = Image.effect_noise((160, 120), 60).convert("RGB")
    noisy.save(out, "JPEG", exif=exif(), **options)
    stripped = strip_exif(out.getvalue(), "image/jpeg")
    assert b"PhoneMaker" not in stripped
    assert opened(stripped).tobytes() == opened(out.getvalue()).tobytes()


def test_a_damaged_file_with_metadata_is_refused_not_kept_whole():
    """Fail closed: when the parser can't follow a file, metadata it may hold is not stored."""
    assert strip_exif(jpeg()[:-300], "image/jpeg") is None
    cut_png = io.BytesIO()
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "taken at 1 High St")
    picture().save(cut_png, "PNG", pnginfo=info)
    assert strip_exif(cut_png.getvalue()[:-5], "image/png") is None


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


def test_other_photos_keep_their_type_through_clean_photo():
    cleaned, kind = clean_photo(jpeg(), "image/jpeg")
    assert kind == "image/jpeg" and cleaned == strip_exif(jpeg(), "image/jpeg")


def test_a_heic_with_more_pixels_than_any_phone_takes_is_refused_before_decoding(monkeypatch):
    """HEVC packs a huge plain picture into a few KB: the size limit of uploads does not bound
    what decoding it would take, so the pixel count from the header does."""
    from survey.shopper import images

    assert clean_photo(heic(), "image/heic") is not None
    monkeypatch.setattr(images, "MAX_PIXELS", 64 * 48 - 1)  # one pixel short of the test photo
    assert clean_photo(heic(), "image/heic") is None
    assert images.MAX_PIXELS < 64 * 48 and clean_photo(jpeg(), "image/jpeg") is not None  # others aren't decoded
