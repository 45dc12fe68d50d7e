"""Fixtures of the blueprints tier."""

from __future__ import annotations

import urllib.request

import pytest

from tests.support.accounts import Account


@pytest.fixture
def account(moto_url: str) -> Account:
    """An empty account in the emulator, reset for each test."""
    urllib.request.urlopen(urllib.request.Request(f"{moto_url}/moto-api/reset", method="POST")).read()
    return Account(moto_url)
