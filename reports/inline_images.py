"""Screenshots inlined into the HTML report as ``data:`` URIs, re-encoded so the one file stays a reasonable size.

Role: read a screenshot from the report folder, scale it to at most ``MAX_WIDTH`` pixels wide (full-page shots keep
their height in proportion, up to WebP's limit), re-encode it as WebP and return it as a ``data:image/webp;base64``
URI. Measured on the lab's 1280-pixel-wide screenshots: 800 px WebP at quality 70 is 4-5 times smaller than the
PNG (a 1280x720 page: ~35 KB PNG -> ~7 KB; a 1280x2039 full page: 133 KB -> 27 KB) and its text stays readable;
JPEG at the same width and quality is about twice the size of WebP. ``inline_all`` decodes and encodes on every core
(Pillow releases the GIL while it decodes, scales and encodes).

Never larger than the file itself: when the original (PNG, JPEG or WebP) is smaller than its WebP re-encoding (a
flat synthetic page compresses better losslessly), the original bytes are inlined as they are.

Guarantees: only files inside the report folder are read (a path that resolves elsewhere, e.g. through a symlink,
is refused); a missing, unreadable or oversized file never breaks the report: ``inline_screenshot`` returns an
``InlineImage`` with ``problem`` set, and the HTML says so in the screenshot's place.
"""

from __future__ import annotations

import base64
import io
import os
import warnings
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, UnidentifiedImageError

MAX_WIDTH = 800
MAX_HEIGHT = 16000  # WebP cannot be taller than 16383 pixels
QUALITY = 70
METHOD = 2  # libwebp's effort: 2 is ~30% faster than 4 for ~4% more bytes on the lab's screenshots
MAX_PIXELS = 80_000_000  # a screenshot larger than this is not a screenshot: refused, never decoded
_MIME = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}


@dataclass(frozen=True, slots=True)
class InlineImage:
    """A screenshot ready for ``<img src>``: ``data_uri`` (None with ``problem`` when it could not be read)."""

    data_uri: str | None
    width: int = 0
    height: int = 0
    original_bytes: int = 0
    inlined_bytes: int = 0
    problem: str | None = None


def _inside(folder: Path, relative: str) -> Path | None:
    root = folder.resolve()
    path = (root / relative).resolve()
    return path if path.is_relative_to(root) else None


def encode(image: Image.Image, *, max_width: int = MAX_WIDTH, quality: int = QUALITY) -> tuple[bytes, int, int]:
    """``image`` scaled down to ``max_width`` (never up) and encoded as WebP; returns (bytes, width, height)."""
    rgb = image.convert("RGB")
    scale = min(1.0, max_width / rgb.width, MAX_HEIGHT / rgb.height)
    if scale < 1.0:
        size = (max(1, round(rgb.width * scale)), max(1, round(rgb.height * scale)))
        rgb = rgb.resize(size, Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    rgb.save(buffer, "WEBP", quality=quality, method=METHOD)
    return buffer.getvalue(), rgb.width, rgb.height


def inline_screenshot(
    folder: Path, relative: str, *, max_width: int = MAX_WIDTH, quality: int = QUALITY
) -> InlineImage:
    """The screenshot at ``relative`` (inside ``folder``) as a WebP data URI, or the reason it cannot be shown."""
    path = _inside(folder, relative)
    if path is None:
        return InlineImage(None, problem="outside the report folder: not read")
    try:
        original = path.stat().st_size
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                if image.width * image.height > MAX_PIXELS:
                    return InlineImage(None, problem=f"too large to inline ({image.width}x{image.height} pixels)")
                data, width, height = encode(image, max_width=max_width, quality=quality)
                mime = "image/webp"
                if image.format in _MIME and original <= len(data):
                    data, width, height, mime = path.read_bytes(), image.width, image.height, _MIME[image.format]
    except FileNotFoundError:
        return InlineImage(None, problem="the screenshot file is missing")
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        return InlineImage(None, problem=f"not a readable image ({type(exc).__name__})")
    except OSError as exc:
        return InlineImage(None, problem=f"cannot be read ({exc.strerror or type(exc).__name__})")
    uri = f"data:{mime};base64," + base64.b64encode(data).decode("ascii")
    return InlineImage(uri, width, height, original, len(uri))


def inline_all(folder: Path, relatives: Iterable[str], *, workers: int | None = None) -> dict[str, InlineImage]:
    """``inline_screenshot`` for each distinct path, on ``workers`` threads (default: one per core)."""
    distinct = list(dict.fromkeys(relatives))
    if not distinct:
        return {}
    with ThreadPoolExecutor(max_workers=workers or os.cpu_count() or 1) as pool:
        return dict(
            zip(distinct, pool.map(lambda relative: inline_screenshot(folder, relative), distinct), strict=True)
        )
