"""Reading any image upright and in RGB; writing with no metadata; refusing bad files clearly."""

import io

import numpy as np
import piexif
import pytest
from PIL import Image, ImageCms

from anonymize.errors import MediaError
from anonymize.media import encode_image, load_image
from anonymize.pipeline import anonymize_image
from anonymize.settings import Settings
from conftest import SAMPLES, jpeg_bytes
from helpers.pictures import png_header_only

SECRET_MAKE = b"SecretCam Model X"


def tall_portrait(astronaut):
    """A 512×768 upright picture whose only face is in the top third."""
    canvas = np.full((768, 512, 3), 90, np.uint8)
    canvas[:512] = astronaut
    return canvas


def sideways_jpeg(upright):
    """The JPEG a phone writes: pixels stored rotated, EXIF Orientation 6 to turn them back."""
    stored = np.rot90(upright, k=1)  # 90° counter-clockwise
    exif = piexif.dump({"0th": {piexif.ImageIFD.Orientation: 6}})
    return jpeg_bytes(np.ascontiguousarray(stored), exif=exif)


def test_exif_orientation_is_applied_before_detection(astronaut, detector):
    upright = tall_portrait(astronaut)
    loaded = load_image(sideways_jpeg(upright))
    assert loaded.pixels.shape == upright.shape
    result = anonymize_image(loaded.pixels, detector, Settings(confidence=50))
    (face,) = result.hidden
    assert face.center[1] < 512 and 150 < face.center[0] < 350  # where the face really is
    changed = np.abs(result.image.astype(int) - loaded.pixels).sum(axis=2) > 0
    assert changed[:512].any() and not changed[600:].any()


def jpeg_full_of_metadata(pixels):
    thumbnail = jpeg_bytes(np.asarray(Image.fromarray(pixels).resize((64, 64))))
    exif = piexif.dump(
        {
            "0th": {piexif.ImageIFD.Make: SECRET_MAKE},
            "GPS": {piexif.GPSIFD.GPSLatitudeRef: b"N", piexif.GPSIFD.GPSLatitude: ((48, 1), (51, 1), (0, 1))},
            "1st": {piexif.ImageIFD.JPEGInterchangeFormat: 0, piexif.ImageIFD.JPEGInterchangeFormatLength: 0},
            "thumbnail": thumbnail,
        }
    )
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/">http://ns.adobe.com/xap/1.0/ secret</x:xmpmeta>'
    return jpeg_bytes(pixels, exif=exif, icc_profile=icc, comment=b"shot at home", xmp=xmp)


def test_the_metadata_fixture_really_carries_gps_and_a_thumbnail(astronaut):
    data = jpeg_full_of_metadata(astronaut)
    exif = piexif.load(data)
    assert exif["GPS"] and exif["thumbnail"] and SECRET_MAKE in data and data.count(b"\xff\xd8") == 2


@pytest.mark.parametrize("format", ["jpeg", "png", "webp"])
def test_outputs_carry_no_metadata(astronaut, detector, format):
    loaded = load_image(jpeg_full_of_metadata(astronaut))
    output = encode_image(anonymize_image(loaded.pixels, detector, Settings()).image, format)
    for trace in (b"Exif", SECRET_MAKE, b"shot at home", b"ns.adobe.com/xap", b"acsp", b"xmpmeta"):
        assert trace not in output
    assert output.count(b"\xff\xd8\xff") <= 1  # no second JPEG (thumbnail) inside
    reopened = Image.open(io.BytesIO(output))
    assert not reopened.getexif() and not {"exif", "icc_profile", "xmp", "comment"} & set(reopened.info)


def test_a_truncated_jpeg_is_refused(astronaut):
    data = jpeg_bytes(astronaut)
    with pytest.raises(MediaError, match="damaged or truncated"):
        load_image(data[: len(data) // 2], name="cut.jpg")


def test_text_named_jpg_is_refused_with_its_name():
    with pytest.raises(MediaError, match="notes.jpg: not an image"):
        load_image(b"these are my holiday notes", name="notes.jpg")


def test_an_empty_file_is_refused(tmp_path):
    (tmp_path / "empty.jpg").write_bytes(b"")
    with pytest.raises(MediaError, match="empty.jpg: the file is empty"):
        load_image(tmp_path / "empty.jpg")


def test_a_decompression_bomb_is_refused_before_decoding():
    with pytest.raises(MediaError, match="too large"):
        load_image(png_header_only(40_000, 40_000), name="bomb.png")


def test_the_pixel_limit_is_configurable(astronaut):
    with pytest.raises(MediaError, match="above the limit"):
        load_image(jpeg_bytes(astronaut), max_pixels=100_000)


def encoded(image, format="PNG", **args):
    buffer = io.BytesIO()
    image.save(buffer, format, **args)
    return buffer.getvalue()


def test_16_bit_greyscale_is_scaled_not_clipped():
    ramp = np.linspace(0, 65535, 256, dtype=np.uint16)[None, :].repeat(4, axis=0)
    pixels = load_image(encoded(Image.fromarray(ramp))).pixels
    assert pixels.shape == (4, 256, 3) and pixels[0, 0, 0] == 0 and pixels[0, -1, 0] == 255
    assert 120 <= pixels[0, 128, 0] <= 135


def test_rgba_is_shown_on_white():
    rgba = np.zeros((4, 4, 4), np.uint8)  # fully transparent black
    assert (load_image(encoded(Image.fromarray(rgba, "RGBA"))).pixels == 255).all()


def test_palette_greyscale_and_cmyk_become_rgb(astronaut):
    source = Image.fromarray(astronaut)
    for image, format in ((source.convert("P"), "PNG"), (source.convert("L"), "PNG"), (source.convert("CMYK"), "JPEG")):
        pixels = load_image(encoded(image, format)).pixels
        assert pixels.shape == astronaut.shape and pixels.dtype == np.uint8
        assert np.abs(pixels.astype(int) - astronaut).mean() < 40


def test_the_source_format_decides_the_output_format():
    assert load_image(SAMPLES / "city.jpg").output_format == "jpeg"
    bmp = encoded(Image.new("RGB", (4, 4)), "BMP")
    assert load_image(bmp).output_format == "png"
