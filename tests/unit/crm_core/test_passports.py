"""Passport data sealed by the application: bound to its client, unreadable with another key, checked
when typed."""

from __future__ import annotations

import base64
import os
import stat

import pytest
from cryptography.exceptions import InvalidTag

from crm_core.passports import KEY_FILE, Passport, PassportCipher

PASSPORT = Passport("КВ", "123456", "Шевченківським РВ ГУ ДМС у м. Києві", "2004-05-17")


def test_a_sealed_passport_opens_for_its_client_only_and_with_its_key_only(tmp_path):
    cipher = PassportCipher(os.urandom(32))
    sealed = cipher.seal(42, PASSPORT)
    assert b"123456" not in sealed and "КВ".encode() not in sealed
    assert cipher.open(42, sealed) == PASSPORT
    with pytest.raises(InvalidTag):
        cipher.open(43, sealed)
    with pytest.raises(InvalidTag):
        PassportCipher(os.urandom(32)).open(42, sealed)
    assert cipher.seal(42, PASSPORT) != sealed  # a fresh nonce every time


def test_the_key_comes_from_the_environment_or_an_owner_only_file(tmp_path, monkeypatch):
    monkeypatch.delenv("SWITCHBOARD_PD_KEY", raising=False)
    first = PassportCipher.from_environment(tmp_path)
    assert stat.S_IMODE((tmp_path / KEY_FILE).stat().st_mode) == 0o600
    assert PassportCipher.from_environment(tmp_path).key_id == first.key_id
    key = os.urandom(32)
    monkeypatch.setenv("SWITCHBOARD_PD_KEY", base64.b64encode(key).decode())
    assert PassportCipher.from_environment(tmp_path).key_id == PassportCipher(key).key_id != first.key_id


@pytest.mark.parametrize(("series", "number", "issued_on"), [
    ("KB", "123456", "2004-05-17"),  # Latin letters
    ("КВ", "12345", "2004-05-17"),
    ("", "12345678", "2020-01-01"),  # an ID card has nine digits
    ("КВ", "123456", "2999-01-01"),
    ("КВ", "123456", "17.05.2004"),
])
def test_what_is_not_a_passport_is_refused(series, number, issued_on):
    with pytest.raises(ValueError):
        Passport.checked(series, number, "РВ", issued_on)


def test_a_booklet_and_an_id_card_are_taken():
    assert Passport.checked("кв", "123 456", " РВ ", "2004-05-17") == Passport("КВ", "123456", "РВ", "2004-05-17")
    assert Passport.checked("", "001234567", "4610", "2020-01-01").number == "001234567"
    assert PASSPORT.masked() == {"series": "К*", "number": "***56", "issued_by": "***", "issued_on": "***"}
