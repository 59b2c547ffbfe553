"""The media store: images kept by content under PLUME_HOME/media/<sha256>, and their fit to each network."""

from __future__ import annotations

import hashlib
import io
import os
import re
import warnings
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from core.domain import Media
from core.errors import StorageError, ValidationFailed
from core.platforms import Platform

MAX_UPLOAD_BYTES = 50 * 1024 * 1024  # above every network's limit: a larger file is surely not a post image
MIME = {"JPEG": "image/jpeg", "PNG": "image/png", "GIF": "image/gif", "WEBP": "image/webp",
        "HEIF": "image/heif", "AVIF": "image/avif", "BMP": "image/bmp", "TIFF": "image/tiff"}
SAFE_NAME = re.compile(r"[^\w.\- ]+")


def folder(home: Path) -> Path:
    return Path(home) / "media"


def store(home: Path, data: bytes, filename: str) -> Media:
    """Keep an image's bytes (once per content) and describe it; anything that is not an image is refused."""
    name = SAFE_NAME.sub("_", Path(filename or "image").name)[:120] or "image"
    if not data:
        raise ValidationFailed(f"{name} is empty.")
    if len(data) > MAX_UPLOAD_BYTES:
        raise ValidationFailed(f"{name} is {_size(len(data))}; Plume takes images up to {_size(MAX_UPLOAD_BYTES)}.")
    mime, width, height = _inspect(data, name)
    sha = hashlib.sha256(data).hexdigest()
    target = folder(home) / sha
    if not target.exists():
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            partial = target.with_name(f"{sha}.{os.getpid()}.part")
            partial.write_bytes(data)
            os.replace(partial, target)
        except OSError as exc:
            raise StorageError(f"Could not keep {name} in {target.parent}: {exc.strerror or exc}") from exc
    return Media(sha256=sha, filename=name, mime=mime, size=len(data), width=width, height=height)


def read(home: Path, media: Media | dict) -> bytes:
    """The image's bytes, checked against its hash (a file changed on disk is not sent)."""
    media = media if isinstance(media, Media) else Media.from_dict(media)
    try:
        data = (folder(home) / media.sha256).read_bytes()
    except OSError as exc:
        raise StorageError(f"The image {media.filename} ({media.sha256[:12]}) is missing from "
                           f"{folder(home)}: {exc.strerror or exc}") from exc
    if hashlib.sha256(data).hexdigest() != media.sha256:
        raise StorageError(f"The image {media.filename} changed on disk since it was attached; attach it again.")
    return data


def check(media: Media | dict, platform: Platform) -> list[str]:
    """What keeps this image off the network, each problem naming the network's limit ([] = it fits)."""
    media = media if isinstance(media, Media) else Media.from_dict(media)
    limits, network, problems = platform.media, platform.label, []
    if media.mime not in limits.types:
        kinds = ", ".join(sorted(t.removeprefix("image/").upper() for t in limits.types))
        problems.append(f"{media.filename} is {media.mime.removeprefix('image/').upper()}; {network} takes {kinds}")
    if media.size > limits.max_bytes:
        problems.append(f"{media.filename} is {_size(media.size)}; {network} takes images up to {_size(limits.max_bytes)}")
    if limits.max_pixels and media.width * media.height > limits.max_pixels:
        problems.append(f"{media.filename} has {media.width}×{media.height} = {media.width * media.height:,} pixels; "
                        f"{network} takes up to {limits.max_pixels:,}")
    if limits.max_side and max(media.width, media.height) > limits.max_side:
        problems.append(f"{media.filename} is {media.width}×{media.height}; {network} takes sides up to "
                        f"{limits.max_side} pixels")
    if limits.max_alt and len(media.alt) > limits.max_alt:
        problems.append(f"the alt text of {media.filename} has {len(media.alt)} characters; {network} takes up to "
                        f"{limits.max_alt}")
    return problems


def _inspect(data: bytes, name: str) -> tuple[str, int, int]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)  # ~90 Mpx: no post image is that big
            with Image.open(io.BytesIO(data)) as image:
                image.verify()  # reads the whole file: a truncated or corrupt image fails here
                kind, (width, height) = image.format, image.size
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ValidationFailed(f"{name} is not an image Plume can read (JPEG, PNG, GIF, WEBP…): {exc}") from None
    except (OSError, SyntaxError, ValueError) as exc:  # Pillow's way of saying "damaged"
        raise ValidationFailed(f"{name} looks damaged and cannot be read: {exc}") from None
    mime = MIME.get(kind or "")
    if mime is None:
        raise ValidationFailed(f"{name} is a {kind} image; attach a JPEG, PNG, GIF or WEBP.")
    return mime, width, height


def _size(count: int) -> str:
    if count >= 1024 * 1024:
        return f"{count / (1024 * 1024):.1f} MB"
    return f"{count / 1024:.0f} KB" if count >= 1024 else f"{count} bytes"
