"""A faithful local Cloud Tasks (v2, HTTP targets) for the hilft stack and its tests."""

from .server import Emulator

__all__ = ["Emulator"]
