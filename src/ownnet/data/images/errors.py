"""The errors a bad image raises: one type for every image that cannot be read."""

from __future__ import annotations

from ownnet.errors import DataError


class ImageError(DataError):
    """An image could not be read as a picture of digits: the file is missing, is not an
    image, is damaged, too large, or holds no ink. The message names the image, what
    was expected and what was found."""


class NoInkError(ImageError):
    """The image has no ink that stands out from its background."""
