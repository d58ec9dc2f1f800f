"""Search queries that cannot be answered are refused before touching the database, with a locale key
the agent desktop can show in Ukrainian or English."""

import json
import pickle
from pathlib import Path

import pytest

from crm_core.search import SEARCH_FIELDS, SearchError, SearchQuery, Term, search_statement

LOCALES = Path(__file__).resolve().parents[3] / "dashboards" / "locales"


@pytest.fixture(scope="module")
def tables():
    return {lang: json.loads((LOCALES / f"crm_core.{lang}.json").read_text(encoding="utf-8")) for lang in ("uk", "en")}


@pytest.mark.parametrize("query, key", [
    (SearchQuery([]), "crm.search.no_terms"),
    (SearchQuery([Term("name", "Ко Ол")]), "crm.search.word_too_short"),
    (SearchQuery([Term("address", "12")]), "crm.search.word_too_short"),
    (SearchQuery([Term("phone", "067")]), "crm.search.phone_too_short"),
    (SearchQuery([Term("email", "ab")]), "crm.search.email_too_short"),
    (SearchQuery([Term("account_no", "12")]), "crm.search.account_no_too_short"),
    (SearchQuery([Term("eic", "56XS12")]), "crm.search.eic_whole"),
    (SearchQuery([Term("colour", "red")]), "crm.search.unknown_field"),
    (SearchQuery([Term("name", "Шевченко")], mode="xor"), "crm.search.unknown_mode"),
    (SearchQuery([Term("name", "Шевченко")], limit=501), "crm.search.bad_limit"),
])
def test_unanswerable_queries_are_refused_with_a_locale_key(tables, query, key):
    with pytest.raises(SearchError) as refused:
        search_statement(query)
    assert refused.value.key == key
    for table in tables.values():
        assert table[key].format(**refused.value.params)  # every placeholder has its value
    again = pickle.loads(pickle.dumps(refused.value))  # crosses process boundaries (Ray) intact
    assert (again.key, again.params, str(again)) == (key, refused.value.params, str(refused.value))


def test_both_locales_have_the_same_keys_and_name_every_field(tables):
    assert tables["uk"].keys() == tables["en"].keys()
    assert {f"crm.search.field.{f}" for f in SEARCH_FIELDS} <= tables["uk"].keys()


@pytest.mark.parametrize("terms", [[Term("name", "Шевченко Ол")], [Term("address", "Хрещатик 12")],
                                   [Term("phone", "+380441234567")], [Term("phone", "1234567")],
                                   [Term("email", "olena@ukr.net")], [Term("account_no", "0100 0001")],
                                   [Term("eic", "56xs00000000011z")]])
def test_answerable_queries_build_a_statement(terms):
    assert search_statement(SearchQuery(terms, mode="or", limit=10)) is not None
