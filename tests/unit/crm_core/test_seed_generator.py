"""The seed generator's rows, without a database: realistic, unique, deterministic.

Known-valid EIC codes used to check the check-character algorithm are published ENTSO-E area codes
(German 50Hertz area, Czech CEPS, French RTE) from the ENTSO-E EIC registry.
"""

import re
from collections import Counter

import pytest

from crm_core.phones import normalize_email, normalize_phone
from crm_core.seed import codes
from crm_core.seed.generator import ChunkGenerator
from crm_core.seed.names import transliterate
from crm_core.seed.places import CITIES

PATRONYMIC = re.compile(r"(ович|йович|іч|івна|ївна)$")


def _columns(lines):
    return [line.rstrip("\n").split("\t") for line in lines]


@pytest.fixture(scope="module")
def chunk():
    return ChunkGenerator(seed=11, first_client_id=1).chunk(first_account_id=1, count=20_000)


@pytest.mark.parametrize("code", ["10YDE-VE-------2", "10YCZ-CEPS-----N", "10YFR-RTE------C"])
def test_eic_check_character_matches_published_codes(code):
    assert codes.eic_check_char(code[:15]) == code[15]


def test_identifiers_are_unique_and_well_formed():
    ids = range(1, 50_001)
    numbers = [codes.account_number(i) for i in ids]
    assert len(set(numbers)) == len(numbers)
    assert all(len(n) == 10 and n.isdigit() and n[0] != "0" for n in numbers)
    eics = [codes.eic_code(i) for i in ids]
    assert len(set(eics)) == len(eics)
    assert all(len(e) == 16 and e.startswith("56XS") and codes.eic_check_char(e[:15]) == e[15] for e in eics)
    mobiles = [codes.mobile_phone(i) for i in ids]
    landlines = [codes.landline_phone(i) for i in ids]
    assert len(set(mobiles)) == len(mobiles) and len(set(landlines)) == len(landlines)
    for phone in mobiles + landlines:
        assert normalize_phone(phone) == phone
    assert {m[4:6] for m in mobiles} <= set(codes.MOBILE_CODES)
    assert all(int(m[6:]) >= codes.MOBILE_SUBSCRIBERS_FROM for m in mobiles)
    telegram = [codes.telegram_id(i) for i in ids]
    assert len(set(telegram)) == len(telegram)
    assert all(len(codes.viber_id(i)) == 24 for i in range(1, 100))


def test_landline_is_in_the_clients_city():
    for client_id in range(1, 2000):
        city = codes.city_of(client_id)
        assert codes.landline_phone(client_id).startswith("+380" + city.area_code)


def test_city_shares_follow_their_weights():
    counts = Counter(codes.city_of(i).name for i in range(100_000))
    for city in CITIES:
        assert counts[city.name] == city.weight * 100


def test_people_have_ukrainian_names_and_contacts(chunk):
    clients = _columns(chunk.clients)
    people = [c for c in clients if c[1] == "person"]
    assert len(people) > 0.95 * len(clients)
    for _, _, full_name, segment, language in people:
        surname, first, patronymic = full_name.split(" ")
        assert re.fullmatch(r"[А-ЯІЇЄҐ][а-яіїєґ']+", first) and PATRONYMIC.search(patronymic), full_name
        assert segment in ("regular", "vip") and language in ("uk", "en")
    organisations = [c for c in clients if c[1] == "organisation"]
    assert organisations and all(c[3] == "legal" for c in organisations)
    assert any(c[3] == "vip" for c in people)
    points = _columns(chunk.contact_points)
    kinds = Counter(p[1] for p in points)
    assert set(kinds) == {"phone", "email", "telegram", "viber"}
    for _, kind, value, _ in points:
        if kind == "phone":
            assert normalize_phone(value) == value
        elif kind == "email":
            assert normalize_email(value) == value and value.isascii()
    unique = {(p[0], p[1], p[2]) for p in points}
    assert len(unique) == len(points)


def test_accounts_roles_and_ratios_look_like_a_gas_utility(chunk):
    accounts = _columns(chunk.accounts)
    assert len(accounts) == 20_000
    for _, number, eic, address, tariff, balance, as_of in accounts[:2000]:
        assert len(number) == 10 and eic.startswith("56XS")
        assert address.startswith("м. ") or " обл., " in address
        assert re.search(r"буд\. \d+", address)
        assert re.fullmatch(r"-?\d+\.\d\d", balance)
        assert re.fullmatch(r"\d{4}-\d\d-\d\d 00:00:00\+00", as_of)
        assert tariff
    roles = _columns(chunk.account_roles)
    assert len({(r[0], r[1], r[2]) for r in roles}) == len(roles)
    owners = Counter(r[0] for r in roles if r[2] == "owner")
    assert set(owners.values()) == {1} and len(owners) == len(accounts)
    by_role = Counter(r[2] for r in roles)
    assert by_role["co_owner"] > 0 and by_role["contact_person"] > 0
    accounts_per_client = Counter(r[1] for r in roles)
    assert max(accounts_per_client.values()) > 2  # organisations and managers hold several accounts
    ratio = len(chunk.clients) / len(accounts)
    assert 1.1 <= ratio <= 1.3
    client_ids = {int(c[0]) for c in _columns(chunk.clients)}
    assert {int(r[1]) for r in roles} <= client_ids
    assert {int(p[0]) for p in _columns(chunk.contact_points)} <= client_ids


def test_spouses_share_the_family_landline(chunk):
    landlines = Counter(p[2] for p in _columns(chunk.contact_points)
                        if p[1] == "phone" and not p[2].startswith(tuple(f"+380{c}" for c in codes.MOBILE_CODES)))
    assert any(count > 1 for count in landlines.values())


def test_same_seed_same_rows_other_seed_other_rows():
    first = ChunkGenerator(seed=3, first_client_id=500).chunk(first_account_id=100, count=500)
    again = ChunkGenerator(seed=3, first_client_id=500).chunk(first_account_id=100, count=500)
    other = ChunkGenerator(seed=4, first_client_id=500).chunk(first_account_id=100, count=500)
    assert first.clients == again.clients and first.accounts == again.accounts
    assert first.contact_points == again.contact_points and first.account_roles == again.account_roles
    assert first.clients != other.clients


def test_transliteration_follows_the_official_table():
    assert transliterate("Шевченко") == "shevchenko"
    assert transliterate("Юрій") == "yurii"
    assert transliterate("Згурський") == "zghurskyi"
    assert transliterate("Лук'яненко") == "lukianenko"
    assert transliterate("Євгенія") == "yevheniia"
