"""Operations commands: ``newswatch schedule`` and ``newswatch doctor``."""

from __future__ import annotations
