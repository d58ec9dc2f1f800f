"""Active Directory / LDAP password logins (issue 18 §3) against a real OpenLDAP (Debian slapd) started
here on a free port with TLS: the directory's groups give the role (and follow it), a first login creates
the user, local passwords are off for directory users, a directory that is down answers a clear 503 while
the break-glass administrator still logs in locally, and the audit log says which way each login came."""

from __future__ import annotations

import dataclasses
import ssl

import ldap3
import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import text

from crm_core import users
from dashboards.app import build_app
from dashboards.directory import LdapDirectory, LdapSettings
from dashboards.settings import DashboardSettings
from tests.integration.dashboards.conftest import PASSWORD
from tests.support import openldap
from tests.support.openldap import OpenLdap, Person

pytestmark = [pytest.mark.integration,
              pytest.mark.skipif(not openldap.available(), reason="slapd is not installed (apt-get install -y slapd ldap-utils)")]

PEOPLE = [Person("ikoval", "Коваль Ірина", "Ldap-pass-ikoval-1", ("cc-operators",)),
          Person("pbondar", "Бондар Петро", "Ldap-pass-pbondar-1", ("supervisors", "cc-operators")),
          Person("nogroup", "Без Групи", "Ldap-pass-nogroup-1")]


def ldap_table(server: OpenLdap, **overrides) -> dict:
    return {"enabled": True, "url": server.url, "user_dn": f"uid={{login}},ou=people,{openldap.SUFFIX}",
            "group_base": f"ou=groups,{openldap.SUFFIX}", "ca_file": str(server.ca_file), "timeout_s": 2.0,
            "local_logins": ["admin"], "groups": {"supervisors": "supervisor", "cc-operators": "cc_operator"},
            **overrides}


@pytest.fixture
def directory(tmp_path):
    server = OpenLdap(tmp_path / "slapd", PEOPLE)
    server.start()
    yield server
    server.stop()


async def gateway_with(engine, table: dict) -> TestClient:
    settings = dataclasses.replace(DashboardSettings.load(engine.settings.config_dir), ldap=table)
    client = TestClient(TestServer(build_app(engine, settings), host="127.0.0.1", port=0))
    await client.start_server()
    return client


async def logins(engine) -> list[tuple[str, str, str]]:
    async with engine.db.connect() as conn:
        rows = (await conn.execute(text("SELECT action, after->>'login', after->>'method' FROM audit_log"
                                        " WHERE entity = 'security' ORDER BY id"))).all()
    return [tuple(r) for r in rows]


async def test_a_directory_login_creates_the_user_with_the_role_of_their_group(engine, directory):
    web = await gateway_with(engine, ldap_table(directory))
    try:
        response = await web.post("/api/v1/auth/login", json={"login": "pbondar", "password": "Ldap-pass-pbondar-1"})
        assert response.status == 200, await response.text()
        body = await response.json()
        assert body["user"]["role"] == "supervisor" and body["user"]["full_name"] == "Бондар Петро"
        for wrong in ({"login": "pbondar", "password": "nope"}, {"login": "nogroup", "password": "Ldap-pass-nogroup-1"},
                      {"login": "ghost", "password": "x"}):
            assert (await web.post("/api/v1/auth/login", json=wrong)).status == 401, wrong
        assert await logins(engine) == [("login.succeeded", "pbondar", "ldap")] + [("login.failed", login, "ldap")
                                        for login in ("pbondar", "nogroup", "ghost")]
        # an empty password would be an anonymous bind, which the directory accepts: never a login
        assert LdapDirectory(LdapSettings.from_table(ldap_table(directory))).verify("pbondar", "") is None
        async with engine.db.connect() as conn:
            created = await users.find_user(conn, "pbondar")
            actor = (await conn.execute(text("SELECT actor FROM audit_log WHERE entity = 'user' AND entity_id = :i"),
                                        {"i": str(created["id"])})).scalar_one()
        assert created["role"] == "supervisor" and actor == "directory:ldap"
    finally:
        await web.close()


async def test_the_role_follows_the_directory_groups(engine, directory):
    web = await gateway_with(engine, ldap_table(directory))
    try:
        assert (await web.post("/api/v1/auth/login", json={"login": "ikoval", "password": "Ldap-pass-ikoval-1"})).status == 200
        tls = ldap3.Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=str(directory.ca_file))
        root = ldap3.Connection(ldap3.Server("localhost", port=directory.port, use_ssl=True, tls=tls),
                                openldap.ROOT_DN, openldap.ROOT_PASSWORD, auto_bind=True)
        root.modify(f"cn=supervisors,ou=groups,{openldap.SUFFIX}",
                    {"member": [(ldap3.MODIFY_ADD, [f"uid=ikoval,ou=people,{openldap.SUFFIX}"])]})
        root.unbind()
        again = await web.post("/api/v1/auth/login", json={"login": "ikoval", "password": "Ldap-pass-ikoval-1"})
        assert (await again.json())["user"]["role"] == "supervisor"
    finally:
        await web.close()


async def test_local_passwords_are_off_for_directory_users_and_the_break_glass_admin_survives_an_outage(
        engine, directory):
    async with engine.db.begin() as conn:
        await users.create_user(conn, login="local-only", full_name="Місцевий", role="cc_operator", password=PASSWORD)
    web = await gateway_with(engine, ldap_table(directory))
    try:
        assert (await web.post("/api/v1/auth/login", json={"login": "local-only", "password": PASSWORD})).status == 401
        directory.stop()
        down = await web.post("/api/v1/auth/login", json={"login": "ikoval", "password": "Ldap-pass-ikoval-1"})
        assert down.status == 503
        body = await down.json()
        assert body["error"] == "directory_unavailable" and "LDAP" in body["message"] and "Traceback" not in str(body)
        admin = await web.post("/api/v1/auth/login", json={"login": "admin", "password": PASSWORD})
        assert admin.status == 200
        assert (await logins(engine))[-1] == ("login.succeeded", "admin", "password")
    finally:
        await web.close()


async def test_a_directory_whose_certificate_is_not_trusted_is_not_used(engine, directory):
    web = await gateway_with(engine, ldap_table(directory, ca_file=""))  # the system's CAs do not know it
    try:
        refused = await web.post("/api/v1/auth/login", json={"login": "ikoval", "password": "Ldap-pass-ikoval-1"})
        assert refused.status == 503 and (await refused.json())["error"] == "directory_unavailable"
    finally:
        await web.close()
