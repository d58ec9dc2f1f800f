"""The password policy (issue 18 §4): long enough, not the login, not among the commonest breached
passwords of the list shipped with zxcvbn; its refusals (and the administration's) survive pickling, as
everything crossing a Ray boundary must."""

from __future__ import annotations

import pickle

import pytest

from crm_core.password_policy import PasswordPolicy, WeakPassword
from crm_core.user_admin import AdminRefused


@pytest.mark.parametrize(("password", "reason"), [
    ("short-one", "too_short"), ("password1234", "common"), ("Qwertyuiop!!", "common"),
    ("iloveyou2026", "common"), ("aaaaaaaaaaaaaaa", "common"), ("ikoval-gorlivka-1", "login")])
def test_weak_passwords_are_refused_with_their_reason(password, reason):
    with pytest.raises(WeakPassword) as refused:
        PasswordPolicy().check(password, login="ikoval")
    assert refused.value.reason == reason


def test_a_long_uncommon_password_passes():
    PasswordPolicy().check("correct horse battery staple", login="ikoval")
    PasswordPolicy(min_length=8).check("Kotel-2026", login="ikoval")


def test_refusals_survive_pickling():
    weak = pickle.loads(pickle.dumps(WeakPassword("common", "one of the most common passwords")))
    assert (weak.reason, weak.detail) == ("common", "one of the most common passwords")
    refused = pickle.loads(pickle.dumps(AdminRefused("last_administrator", "the last one")))
    assert (refused.code, refused.detail) == ("last_administrator", "the last one")
