"""Errors ownnet raises for bad input; the CLI prints them without a traceback."""

from __future__ import annotations


class OwnnetError(Exception):
    """Base class: the message says which file or value, what was expected and what was found."""


class DataError(OwnnetError, ValueError):
    """A data file is missing, malformed or inconsistent."""


class ModelFileError(OwnnetError, ValueError):
    """A model file could not be read."""
