"""Generation of realistic clients and accounts of a gas utility, one chunk of accounts at a time.

The rows come out as lines of PostgreSQL's COPY text format, ready to stream.  Each account has one
owner: mostly a person, sometimes the owner of the previous account too (a flat and a garage), and in
runs an organisation (a shop, a condominium, a school) that owns many accounts and names a contact
person for all of them.  Some accounts get a co-owner (often the spouse, sharing the family landline)
or a contact person, who may serve several accounts.  The draw depends only on the random seed and the
ids, so the same seed on the same starting ids gives the same data.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from crm_core.seed import codes, names
from crm_core.seed.places import COMMON_STREETS, VILLAGE_STREETS, City, villages_by_oblast
from routing.vocabulary import LEGAL, REGULAR, VIP

P_FEMALE = 0.53
P_GENDERED_SURNAME = 0.15
P_SECOND_PROPERTY = 0.06  # the account belongs to the previous account's owner too
P_ORGANISATION_RUN = 0.0015  # an organisation starts owning the next few accounts
ORGANISATION_RUN = (2, 30)
P_CO_OWNER = 0.15
P_SPOUSE_SHARES_LANDLINE = 0.6
P_CONTACT_PERSON = 0.10
P_CONTACT_REUSED = 0.3  # the contact person already looks after another account of the chunk
P_RURAL = 0.2
P_APARTMENT = 0.65
P_MOBILE, P_LANDLINE, P_EMAIL, P_TELEGRAM, P_VIBER = 0.96, 0.3, 0.3, 0.25, 0.35
P_VIP, P_ENGLISH = 0.003, 0.03
EMAIL_DOMAINS = ("ukr.net", "gmail.com", "i.ua", "meta.ua", "ukr.net", "gmail.com")
ORG_EMAIL_DOMAINS = ("ukr.net", "gmail.com", "company.com.ua")
PERSON_TARIFFS = (("Побутовий річний", 0.55), ("Побутовий місячний", 0.30), ("Побутовий фіксований", 0.15))
BALANCE_DAYS_BACK = 35

_VILLAGES = villages_by_oblast()


@dataclass(slots=True)
class ChunkRows:
    """COPY text lines for each table, for one chunk of accounts."""

    clients: list[str] = field(default_factory=list)
    accounts: list[str] = field(default_factory=list)
    account_roles: list[str] = field(default_factory=list)
    contact_points: list[str] = field(default_factory=list)


@dataclass(slots=True)
class _Person:
    client_id: int
    surname_index: int
    female: bool
    landline: str | None


@dataclass(slots=True)
class _Organisation:
    client_id: int
    tariff: str
    accounts_left: int
    contact_ids: tuple[int, ...]


class ChunkGenerator:
    """Produces chunks in order; client ids continue from ``first_client_id``."""

    def __init__(self, seed: int, first_client_id: int, as_of: datetime | None = None) -> None:
        self.seed = seed
        self.next_client_id = first_client_id
        day = (as_of or datetime.now(UTC)).replace(hour=0, minute=0, second=0, microsecond=0)
        self._balance_dates = [(day - timedelta(days=n)).strftime("%Y-%m-%d 00:00:00+00")
                               for n in range(BALANCE_DAYS_BACK)]
        self._surnames = len(names.COMMON_SURNAMES) + len(names.GENDERED_SURNAMES)

    def chunk(self, first_account_id: int, count: int) -> ChunkRows:
        rng = random.Random(f"{self.seed}:{first_account_id}:{count}")
        rows = ChunkRows()
        previous_owner: _Person | None = None
        organisation: _Organisation | None = None
        contact_pool: list[int] = []
        for account_id in range(first_account_id, first_account_id + count):
            if organisation is not None and organisation.accounts_left > 0:
                organisation.accounts_left -= 1
                self._organisation_account(rng, rows, account_id, organisation)
                continue
            if rng.random() < P_ORGANISATION_RUN:
                organisation = self._organisation(rng, rows, rng.randint(*ORGANISATION_RUN) - 1)
                self._organisation_account(rng, rows, account_id, organisation)
                continue
            if previous_owner is None or rng.random() >= P_SECOND_PROPERTY:
                previous_owner = self._person(rng, rows, owner=True)
            owner = previous_owner
            self._account(rng, rows, account_id, codes.city_of(owner.client_id), self._person_tariff(rng))
            rows.account_roles.append(f"{account_id}\t{owner.client_id}\towner\n")
            if rng.random() < P_CO_OWNER:
                spouse = self._person(rng, rows, owner=False, spouse_of=owner)
                rows.account_roles.append(f"{account_id}\t{spouse.client_id}\tco_owner\n")
            if rng.random() < P_CONTACT_PERSON:
                if contact_pool and rng.random() < P_CONTACT_REUSED:
                    contact_id = rng.choice(contact_pool)
                else:
                    contact_id = self._person(rng, rows, owner=False).client_id
                    contact_pool.append(contact_id)
                if contact_id != owner.client_id:
                    rows.account_roles.append(f"{account_id}\t{contact_id}\tcontact_person\n")
        return rows

    # --- clients -----------------------------------------------------------------------------

    def _take_client_id(self) -> int:
        client_id = self.next_client_id
        self.next_client_id += 1
        return client_id

    def _person(self, rng: random.Random, rows: ChunkRows, *, owner: bool,
                spouse_of: _Person | None = None) -> _Person:
        client_id = self._take_client_id()
        if spouse_of is not None:
            female = not spouse_of.female if rng.random() < 0.85 else spouse_of.female
            surname_index = spouse_of.surname_index if rng.random() < 0.7 else rng.randrange(self._surnames)
        else:
            female = rng.random() < P_FEMALE
            surname_index = rng.randrange(self._surnames)
        father = rng.choice(names.MALE_NAMES)
        if female:
            first, patronymic = rng.choice(names.FEMALE_NAMES), father[2]
        else:
            male = rng.choice(names.MALE_NAMES)
            first, patronymic = male[0], father[1]
        surname = self._surname(surname_index, female)
        segment = VIP if rng.random() < P_VIP else REGULAR
        language = "en" if rng.random() < P_ENGLISH else "uk"
        rows.clients.append(f"{client_id}\tperson\t{surname} {first} {patronymic}\t{segment}\t{language}\n")
        landline = None
        if owner and rng.random() < P_LANDLINE:
            landline = codes.landline_phone(client_id)
        elif spouse_of is not None and spouse_of.landline and rng.random() < P_SPOUSE_SHARES_LANDLINE:
            landline = spouse_of.landline
        points = rows.contact_points
        has_mobile = rng.random() < P_MOBILE
        if has_mobile:
            points.append(f"{client_id}\tphone\t{codes.mobile_phone(client_id)}\tt\n")
        if landline:
            points.append(f"{client_id}\tphone\t{landline}\t{'f' if has_mobile else 't'}\n")
        if rng.random() < P_EMAIL:
            local = f"{names.transliterate(first)}.{names.transliterate(surname)}{client_id}"
            points.append(f"{client_id}\temail\t{local}@{rng.choice(EMAIL_DOMAINS)}\tf\n")
        if rng.random() < P_TELEGRAM:
            points.append(f"{client_id}\ttelegram\t{codes.telegram_id(client_id)}\tf\n")
        if rng.random() < P_VIBER:
            points.append(f"{client_id}\tviber\t{codes.viber_id(client_id)}\tf\n")
        return _Person(client_id, surname_index, female, landline)

    def _surname(self, index: int, female: bool) -> str:
        if index < len(names.COMMON_SURNAMES):
            return names.COMMON_SURNAMES[index]
        masculine, feminine = names.GENDERED_SURNAMES[index - len(names.COMMON_SURNAMES)]
        return feminine if female else masculine

    def _organisation(self, rng: random.Random, rows: ChunkRows, accounts_left: int) -> _Organisation:
        client_id = self._take_client_id()
        form = rng.choice(names.ORGANISATION_FORMS)
        title = rng.choice(names.ORGANISATION_NAMES)
        rows.clients.append(f'{client_id}\torganisation\t{form} "{title}"\t{LEGAL}\tuk\n')
        points = rows.contact_points
        points.append(f"{client_id}\tphone\t{codes.landline_phone(client_id)}\tt\n")
        if rng.random() < 0.5:
            points.append(f"{client_id}\tphone\t{codes.mobile_phone(client_id)}\tf\n")
        if rng.random() < 0.9:
            points.append(f"{client_id}\temail\toffice{client_id}@{rng.choice(ORG_EMAIL_DOMAINS)}\tf\n")
        contacts = tuple(self._person(rng, rows, owner=False).client_id for _ in range(rng.randint(1, 2)))
        tariff = {"ОСББ": "ОСББ", "КП": "Бюджетний", "КНП": "Бюджетний", "ЗЗСО": "Бюджетний"}.get(
            form, "Непобутовий")
        return _Organisation(client_id, tariff, accounts_left, contacts)

    # --- accounts ----------------------------------------------------------------------------

    def _organisation_account(self, rng: random.Random, rows: ChunkRows, account_id: int,
                              organisation: _Organisation) -> None:
        self._account(rng, rows, account_id, codes.city_of(organisation.client_id), organisation.tariff,
                      legal=True)
        rows.account_roles.append(f"{account_id}\t{organisation.client_id}\towner\n")
        for contact_id in organisation.contact_ids:
            rows.account_roles.append(f"{account_id}\t{contact_id}\tcontact_person\n")

    def _account(self, rng: random.Random, rows: ChunkRows, account_id: int, city: City, tariff: str,
                 *, legal: bool = False) -> None:
        address = self._address(rng, city, legal=legal)
        if legal:
            cents = rng.randint(-25_000_000, 5_000_000)
        elif rng.random() < 0.05:
            cents = rng.randint(-3_000_000, -150_000)
        else:
            cents = rng.randint(-150_000, 80_000)
        sign = "-" if cents < 0 else ""
        balance = f"{sign}{abs(cents) // 100}.{abs(cents) % 100:02d}"
        as_of = rng.choice(self._balance_dates)
        rows.accounts.append(f"{account_id}\t{codes.account_number(account_id)}\t{codes.eic_code(account_id)}"
                             f"\t{address}\t{tariff}\t{balance}\t{as_of}\n")

    def _address(self, rng: random.Random, city: City, *, legal: bool) -> str:
        building = rng.randint(1, 180)
        suffix = rng.choice(("а", "б", "/2")) if rng.random() < 0.08 else ""
        villages = _VILLAGES.get(city.oblast)
        if villages and not legal and rng.random() < P_RURAL:
            village = rng.choice(villages)
            return (f"{village.oblast} обл., {village.district} р-н, с. {village.name}, "
                    f"{rng.choice(VILLAGE_STREETS)}, буд. {building}{suffix}")
        street = rng.choice(city.streets) if rng.random() < 0.5 else rng.choice(COMMON_STREETS)
        address = f"м. {city.name}, {street}, буд. {building}{suffix}"
        if not legal and rng.random() < P_APARTMENT:
            address += f", кв. {rng.randint(1, 320)}"
        return address

    @staticmethod
    def _person_tariff(rng: random.Random) -> str:
        draw = rng.random()
        for tariff, share in PERSON_TARIFFS:
            if draw < share:
                return tariff
            draw -= share
        return PERSON_TARIFFS[-1][0]
