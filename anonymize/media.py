"""Reading images safely and writing them without metadata.

Reading applies the EXIF orientation first, so detection sees the picture the
way a person does, flattens every colour mode to 8-bit RGB, and refuses
files that are not images, that would decode to too many pixels, or that hold
more than one picture (an animation or a multi-page file is refused, never
flattened to its first frame). HEIC (what iPhones save) is read through
``pillow-heif``; AVIF by Pillow itself.

Writing starts from the bare pixel array, so no EXIF, GPS, XMP, ICC profile,
comment or embedded thumbnail (which would keep the original, uncensored
picture) can travel from the input to the output.

Example:
    >>> import numpy as np
    >>> data = encode_image(np.zeros((8, 8, 3), np.uint8), "png")
    >>> load_image(data).pixels.shape
    (8, 8, 3)
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pillow_heif
from PIL import Image, ImageCms, ImageOps, PngImagePlugin

from anonymize.errors import MediaError

#: The largest picture we decode, in pixels (a 200 MP phone photo fits).
DEFAULT_MAX_PIXELS = 200_000_000

pillow_heif.register_heif_opener()

#: The largest PNG text chunk (XMP, a comment) we unpack, compressed or not: Pillow's own limit is 1 MiB, which
#: some editors' XMP exceeds. Text is never written out (see above); the limit only bounds a text bomb's memory,
#: with Pillow's limit on all of a file's text (64 MiB) still in place.
MAX_METADATA_CHUNK = 16 * 1024**2
PngImagePlugin.MAX_TEXT_CHUNK = MAX_METADATA_CHUNK

#: Formats we read. Anything else is refused rather than guessed at.
READABLE_FORMATS = ("JPEG", "PNG", "WEBP", "BMP", "TIFF", "GIF", "HEIF", "AVIF")

#: File name endings of the pictures we read, and the output format each keeps with ``--format same``.
IMAGE_SUFFIXES = {
    ".jpg": "jpeg",
    ".jpeg": "jpeg",
    ".jpe": "jpeg",
    ".jfif": "jpeg",
    ".png": "png",
    ".webp": "webp",
    ".bmp": "png",
    ".tif": "png",
    ".tiff": "png",
    ".gif": "png",
    ".heic": "jpeg",
    ".heif": "jpeg",
    ".avif": "jpeg",
    ".mpo": "jpeg",
}

#: Files the operating system leaves in folders and archives; never pictures, so passed over.
IGNORED_FILE_NAMES = {".DS_Store", "Thumbs.db", "desktop.ini"}

#: Output formats and the file extension each is written with.
OUTPUT_EXTENSIONS = {"jpeg": "jpg", "png": "png", "webp": "webp"}

#: Formats whose extra frames belong to the same photo (an MPO's second frame is a preview or
#: a depth map of the first); any other file with several frames is an animation or has pages.
_ONE_PICTURE_FORMATS = {"MPO"}

_SRGB = ImageCms.createProfile("sRGB")


@dataclass(frozen=True)
class LoadedImage:
    """Upright 8-bit RGB pixels (``H×W×3``) and the format the file was in."""

    pixels: np.ndarray
    source_format: str  # "jpeg", "png", "webp" or another lower-case Pillow name

    @property
    def output_format(self) -> str:
        """The format to write this image back in when asked for "the same"."""
        return same_format(self.source_format)


def same_format(name: str) -> str:
    """The output format that keeps a picture's format, or the nearest one we write.

    >>> same_format("webp"), same_format(".jfif"), same_format("heif"), same_format("mpo"), same_format("tiff")
    ('webp', 'jpeg', 'jpeg', 'jpeg', 'png')
    """
    name = name.lower().lstrip(".")
    if name in OUTPUT_EXTENSIONS:
        return name
    return IMAGE_SUFFIXES.get("." + name, "png")


def load_image(
    source: bytes | str | Path, *, name: str | None = None, max_pixels: int = DEFAULT_MAX_PIXELS
) -> LoadedImage:
    """Decode ``source`` (file bytes or a path) into upright RGB pixels.

    Raises :class:`MediaError` with a message naming ``name`` (or the path)
    when the file is empty, not an image, truncated, or larger than
    ``max_pixels``.
    """
    label = name or (Path(source).name if isinstance(source, (str, Path)) else "the upload")
    try:
        data = source if isinstance(source, bytes) else Path(source).read_bytes()
    except OSError as error:
        raise MediaError(f"{label}: cannot be read ({error.strerror or error}).") from error
    if not data:
        raise MediaError(f"{label}: the file is empty.")
    with warnings.catch_warnings():
        # We apply our own pixel limit below; Pillow's warning would only add noise.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data), formats=READABLE_FORMATS)
        except Image.DecompressionBombError as error:
            raise MediaError(f"{label}: the image is too large to process safely.") from error
        except (Image.UnidentifiedImageError, OSError, ValueError) as error:
            if isinstance(error, ValueError) and "MAX_TEXT" in str(
                error
            ):  # Pillow's words for a text chunk, or a file's text, over its limit
                raise MediaError(
                    f"{label}: its metadata (a PNG text chunk, such as XMP) unpacks to more than "
                    f"{MAX_METADATA_CHUNK // 1024**2} MiB, or 64 MiB in all; refused to protect memory."
                ) from error
            raise MediaError(f"{label}: not an image in a supported format (JPEG, PNG, WebP, …).") from error
        width, height = image.size
        frames = getattr(image, "n_frames", 1)
        if frames > 1 and image.format not in _ONE_PICTURE_FORMATS:
            raise MediaError(
                f"{label}: holds {frames} pictures (an animation or pages); refused rather than keeping only "
                "the first. Save each frame as a picture, or an animation as a video, and anonymize those."
            )
        if width * height > max_pixels:
            raise MediaError(
                f"{label}: {width}×{height} is {width * height / 1e6:.0f} megapixels, "
                f"above the limit of {max_pixels / 1e6:.0f}; refused to protect memory."
            )
        try:
            image.load()
            pixels = _to_rgb(ImageOps.exif_transpose(image))
        except (OSError, ValueError, SyntaxError) as error:
            raise MediaError(f"{label}: the image is damaged or truncated ({error}).") from error
    return LoadedImage(pixels=pixels, source_format=(image.format or "png").lower())


def _to_rgb(image: Image.Image) -> np.ndarray:
    """Flatten any Pillow mode to 8-bit sRGB, as a viewer would show it."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        # Pillow's convert("L") clips 16-bit values instead of scaling them.
        wide = np.asarray(image, dtype=np.float64)
        top = 65535.0 if image.mode.startswith("I;16") or wide.max() > 255 else 255.0
        image = Image.fromarray(np.clip(wide / top * 255.0 + 0.5, 0, 255).astype(np.uint8), "L")
    icc = image.info.get("icc_profile")
    if icc and image.mode in ("RGB", "RGBA", "CMYK", "L"):
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            image = ImageCms.profileToProfile(
                image, source, _SRGB, outputMode="RGBA" if image.mode == "RGBA" else "RGB"
            )
        except (ImageCms.PyCMSError, OSError, ValueError):
            pass  # A broken profile: the plain conversion below is close enough.
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        # Transparent pixels still hold colours; show them as a viewer would, on white.
        rgba = image.convert("RGBA")
        canvas = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(canvas, rgba)
    return np.ascontiguousarray(np.asarray(image.convert("RGB"), dtype=np.uint8))


def encode_image(pixels: np.ndarray, format: str, *, quality: int = 92) -> bytes:
    """Encode RGB pixels as ``format`` ("jpeg", "png" or "webp") with no metadata at all."""
    format = format.lower().replace("jpg", "jpeg")
    if format not in OUTPUT_EXTENSIONS:
        raise MediaError(f"cannot write {format!r}: choose one of {', '.join(OUTPUT_EXTENSIONS)}.")
    # A fresh Image from the bare array carries no info dict, EXIF, ICC or thumbnail.
    image = Image.fromarray(np.ascontiguousarray(pixels, dtype=np.uint8), "RGB")
    buffer = io.BytesIO()
    if format == "png":
        image.save(buffer, "PNG", optimize=False, compress_level=6)
    else:
        image.save(buffer, format.upper(), quality=quality)
    return buffer.getvalue()


#: Longer side (px) of the small copies shown in galleries and video previews: sharp at half a desktop's width.
PREVIEW_SIDE = 480


def thumbnail(pixels: np.ndarray, side: int = PREVIEW_SIDE) -> np.ndarray:
    """A copy at most ``side`` px on its longer side (never enlarged), for previews.

    >>> thumbnail(np.zeros((600, 800, 3), np.uint8), 400).shape
    (300, 400, 3)
    """
    scale = side / max(pixels.shape[:2])
    if scale >= 1:
        return pixels.copy()
    size = (max(1, round(pixels.shape[1] * scale)), max(1, round(pixels.shape[0] * scale)))
    return cv2.resize(pixels, size, interpolation=cv2.INTER_AREA)


def save_image(pixels: np.ndarray, path: str | Path, format: str | None = None) -> Path:
    """Write ``pixels`` to ``path`` (format from ``format`` or the extension), metadata-free."""
    path = Path(path)
    format = format or path.suffix.lstrip(".")
    path.write_bytes(encode_image(pixels, format))
    return path
