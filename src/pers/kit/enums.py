"""Enums shared across packages."""

from __future__ import annotations

from enum import StrEnum


class Environment(StrEnum):
    TESTNET = "testnet"
    MAINNET = "mainnet"
