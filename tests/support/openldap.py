"""A real OpenLDAP server (Debian ``slapd``) for the tests and the benchmark: started in a temporary
directory on a free port with TLS (``ldaps://``, a self-signed certificate made here with
``cryptography``), a directory of people and groups loaded with ``slapadd``, stopped again."""

from __future__ import annotations

import datetime
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

SLAPD = "/usr/sbin/slapd"
SUFFIX = "dc=gas,dc=example,dc=ua"
ROOT_DN, ROOT_PASSWORD = f"cn=admin,{SUFFIX}", "ldap-root-secret"


def available() -> bool:
    return Path(SLAPD).exists() and shutil.which("slapadd") is not None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def self_signed(directory: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = directory / "server.crt", directory / "server.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


@dataclass(frozen=True)
class Person:
    uid: str
    full_name: str
    password: str
    groups: tuple[str, ...] = ()


def _ldif(people: list[Person]) -> str:
    entries = [f"dn: {SUFFIX}\nobjectClass: dcObject\nobjectClass: organization\no: Gas\ndc: gas",
               f"dn: ou=people,{SUFFIX}\nobjectClass: organizationalUnit\nou: people",
               f"dn: ou=groups,{SUFFIX}\nobjectClass: organizationalUnit\nou: groups"]
    for p in people:
        surname = p.full_name.split()[0]
        entries.append(f"dn: uid={p.uid},ou=people,{SUFFIX}\nobjectClass: inetOrgPerson\nuid: {p.uid}\n"
                       f"cn:: {_b64(p.full_name)}\nsn:: {_b64(surname)}\nuserPassword: {p.password}")
    for group in sorted({g for p in people for g in p.groups}):
        members = "\n".join(f"member: uid={p.uid},ou=people,{SUFFIX}" for p in people if group in p.groups)
        entries.append(f"dn: cn={group},ou=groups,{SUFFIX}\nobjectClass: groupOfNames\ncn: {group}\n{members}")
    return "\n\n".join(entries) + "\n"


def _b64(text: str) -> str:
    import base64

    return base64.b64encode(text.encode()).decode()


class OpenLdap:
    """``start()`` then ``url`` (ldaps://localhost:<port>) and ``ca_file``; ``stop()``."""

    def __init__(self, directory: Path, people: list[Person]) -> None:
        self.directory = directory
        self.people = people
        self.port = _free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"ldaps://localhost:{self.port}"

    def start(self) -> None:
        d = self.directory
        (d / "db").mkdir(parents=True, exist_ok=True)
        self.ca_file, key = self_signed(d)
        schema = "/etc/ldap/schema"
        (d / "slapd.conf").write_text(
            f"include {schema}/core.schema\ninclude {schema}/cosine.schema\ninclude {schema}/inetorgperson.schema\n"
            f"modulepath /usr/lib/ldap\nmoduleload back_mdb\npidfile {d}/slapd.pid\n"
            f"TLSCertificateFile {self.ca_file}\nTLSCertificateKeyFile {key}\n"
            f"database mdb\nsuffix \"{SUFFIX}\"\nrootdn \"{ROOT_DN}\"\nrootpw {ROOT_PASSWORD}\n"
            f"directory {d}/db\nmaxsize 10485760\n"
            "access to attrs=userPassword by anonymous auth by self read by * none\n"
            "access to * by * read\n")
        (d / "people.ldif").write_text(_ldif(self.people), encoding="utf-8")
        subprocess.run(["slapadd", "-f", str(d / "slapd.conf"), "-l", str(d / "people.ldif")], check=True,
                       capture_output=True)
        self.process = subprocess.Popen([SLAPD, "-f", str(d / "slapd.conf"), "-h", f"ldaps://127.0.0.1:{self.port}/",
                                         "-d", "0"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"slapd did not start: {self.process.stderr.read().decode()[-2000:]}")
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("slapd did not listen within 10 s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        self.process = None
