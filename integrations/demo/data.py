"""Deterministic demo rows: a product's `users` and the CRM's `salesforce_contacts`.

The same seed always gives the same rows, produced lazily so a benchmark can
ask for a million. Row n of both tables is the same person: the user's
`crm_contact_id` is the contact's `contact_id`.

Shaped after the product brief's queries:
  - SELECT MAX(last_activity_date) AS last_activity_date, plan, first_name, last_name, email
    FROM users GROUP BY plan, first_name, last_name, email          (Salesloft cadence)
  - SELECT contact_id FROM salesforce_contacts WHERE subscription_plan = 'gold'   (Gong flow)
  - SELECT first_name, last_name, email FROM users                (LinkedIn audience)

Contact ids look like Salesforce contact ids ("003" + 15 characters). The first
fifteen are the contacts the Gong sandbox's CRM knows (0035g00000SBX001AA ...
0035g00000SBX015AA), and the first ten people are on the gold plan, so the Gong
query finds contacts that the sandbox can enrol.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from decimal import Decimal

from integrations.base import BOOLEAN, DATE, DATETIME, INTEGER, NUMBER, STRING

DEFAULT_ROWS = 5000
SEED = 20240208

PLANS = ("free", "starter", "gold", "platinum")
PLAN_WEIGHTS = (45, 30, 17, 8)
PLAN_MRR = {"free": 0, "starter": 49, "gold": 199, "platinum": 799}
GOLD_PEOPLE = 10  # the first people are gold, see the module's docstring

# Each table: (column, type) in order. Types use the shared vocabulary; the
# loaders turn them into each dialect's DDL.
TABLES: dict[str, list[tuple[str, str]]] = {
    "users": [
        ("id", INTEGER),
        ("first_name", STRING),
        ("last_name", STRING),
        ("email", STRING),
        ("plan", STRING),
        ("subscription_plan", STRING),
        ("last_activity_date", DATE),
        ("created_at", DATETIME),
        ("company", STRING),
        ("domain", STRING),
        ("crm_contact_id", STRING),
        ("title", STRING),
        ("country", STRING),
        ("seats", INTEGER),
        ("mrr", NUMBER),
        ("is_active", BOOLEAN),
    ],
    "salesforce_contacts": [
        ("id", INTEGER),
        ("contact_id", STRING),
        ("first_name", STRING),
        ("last_name", STRING),
        ("email", STRING),
        ("phone", STRING),
        ("account_name", STRING),
        ("title", STRING),
        ("lead_source", STRING),
        ("subscription_plan", STRING),
        ("mailing_country", STRING),
        ("created_date", DATETIME),
        ("has_opted_out_of_email", BOOLEAN),
    ],
}

FIRST_NAMES = (
    "Olivia", "Liam", "Emma", "Noah", "Amelia", "Oliver", "Ava", "Elijah", "Sophia", "Mateo",
    "Isabella", "Lucas", "Mia", "Levi", "Charlotte", "Ethan", "Harper", "James", "Evelyn", "Aiden",
    "Priya", "Arjun", "Mei", "Hiroshi", "Yuki", "Fatima", "Omar", "Amara", "Kwame", "Chloe",
    "Sofia", "Diego", "Camila", "Lea", "Jonas", "Ingrid", "Lars", "Nadia", "Ivan", "Elena",
    "Grace", "Henry", "Zoe", "Samuel", "Nora", "Leo", "Aisha", "Ravi", "Hannah", "Daniel",
)
LAST_NAMES = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez",
    "Hernandez", "Lopez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Martin", "Lee",
    "Patel", "Nguyen", "Kim", "Chen", "Tanaka", "Okafor", "Mensah", "Haddad", "Schmidt", "Müller",
    "Rossi", "Dubois", "Novak", "Kowalski", "Johansson", "Larsen", "Ivanova", "Costa", "Silva", "O'Brien",
    "Walsh", "Murphy", "Clarke", "Singh", "Khan", "Ali", "Sato", "Park", "Lindqvist", "Fischer",
)
COMPANY_WORDS = (
    "Northwind", "Bluefin", "Copperleaf", "Brightline", "Summit", "Redwood", "Lumen", "Harbor", "Atlas", "Vertex",
    "Kestrel", "Meridian", "Cobalt", "Juniper", "Orbit", "Pinnacle", "Quartz", "Sequoia", "Tidal", "Zephyr",
)
COMPANY_KINDS = (
    "Analytics", "Labs", "Systems", "Health", "Logistics", "Robotics", "Foods", "Capital", "Media", "Software",
    "Energy", "Travel", "Retail", "Security", "Bio",
)
TITLES = (
    "Software Engineer", "Senior Software Engineer", "Engineering Manager", "VP of Engineering", "CTO",
    "Product Manager", "Head of Product", "Data Analyst", "Data Engineer", "Head of Data",
    "Marketing Manager", "Growth Lead", "VP of Marketing", "Account Executive", "Sales Manager",
    "Customer Success Manager", "Operations Manager", "CFO", "CEO", "Founder",
)
COUNTRIES = ("US", "US", "US", "US", "GB", "GB", "CA", "DE", "FR", "NL", "SE", "ES", "IN", "JP", "AU", "BR", "SG")
LEAD_SOURCES = ("Web", "Webinar", "Partner Referral", "Trade Show", "Outbound", "Product Signup", "Advertisement")

EPOCH = dt.datetime(2021, 1, 4, 9, 0, 0)
TODAY = dt.date(2025, 6, 30)  # fixed, so the rows never depend on when they are made


def crm_contact_id(n: int) -> str:
    """The n-th person's Salesforce contact id: "003" + 15 characters, 18 in all."""
    if n <= 999:
        return f"0035g00000SBX{n:03d}AA"
    return f"0035g{n:011d}AA"


def _companies() -> list[tuple[str, str]]:
    names = [f"{w} {k}" for w in COMPANY_WORDS for k in COMPANY_KINDS]
    return [(name, name.lower().replace(" ", "") + ".example") for name in names]


COMPANIES = _companies()


def people(count: int = DEFAULT_ROWS, seed: int = SEED) -> Iterator[dict]:
    """The people both tables describe, one dict each, lazily."""
    rng = random.Random(seed)
    choice, randint, choices = rng.choice, rng.randint, rng.choices
    for n in range(1, count + 1):
        first, last = choice(FIRST_NAMES), choice(LAST_NAMES)
        company, domain = choice(COMPANIES)
        plan = "gold" if n <= GOLD_PEOPLE else choices(PLANS, PLAN_WEIGHTS)[0]
        local = f"{first}.{last}".lower().replace("'", "").replace("ü", "u")
        created = EPOCH + dt.timedelta(seconds=randint(0, 4 * 365 * 86400))
        yield {
            "n": n,
            "first_name": first,
            "last_name": last,
            "email": f"{local}{n}@{domain}",
            "company": company,
            "domain": domain,
            "plan": plan,
            "title": choice(TITLES),
            "country": choice(COUNTRIES),
            "created": created,
            "contact_id": crm_contact_id(n),
        }


def users(count: int = DEFAULT_ROWS, seed: int = SEED) -> Iterator[dict]:
    """Rows of `users`, in TABLES order, lazily."""
    rng = random.Random(seed + 1)
    randint, random_ = rng.randint, rng.random
    for p in people(count, seed):
        created = p["created"]
        span = max((TODAY - created.date()).days, 0)
        seats = 1 if p["plan"] == "free" else randint(2, 250 if p["plan"] == "platinum" else 40)
        yield {
            "id": p["n"],
            "first_name": p["first_name"],
            "last_name": p["last_name"],
            "email": p["email"],
            "plan": p["plan"],
            "subscription_plan": p["plan"],
            "last_activity_date": created.date() + dt.timedelta(days=randint(0, span)),
            "created_at": created,
            "company": p["company"],
            "domain": p["domain"],
            "crm_contact_id": p["contact_id"],
            "title": p["title"],
            "country": p["country"],
            "seats": seats,
            "mrr": Decimal(PLAN_MRR[p["plan"]] * seats).quantize(Decimal("0.01")),
            "is_active": random_() < 0.85,
        }


def salesforce_contacts(count: int = DEFAULT_ROWS, seed: int = SEED) -> Iterator[dict]:
    """Rows of `salesforce_contacts`, in TABLES order, lazily."""
    rng = random.Random(seed + 2)
    choice, randint, random_ = rng.choice, rng.randint, rng.random
    for p in people(count, seed):
        yield {
            "id": p["n"],
            "contact_id": p["contact_id"],
            "first_name": p["first_name"],
            "last_name": p["last_name"],
            "email": p["email"],
            "phone": f"+1-555-{randint(100, 999)}-{randint(1000, 9999)}",
            "account_name": p["company"],
            "title": p["title"],
            "lead_source": choice(LEAD_SOURCES),
            "subscription_plan": p["plan"],
            "mailing_country": p["country"],
            "created_date": p["created"] - dt.timedelta(days=randint(0, 60)),
            "has_opted_out_of_email": random_() < 0.05,
        }


GENERATORS = {"users": users, "salesforce_contacts": salesforce_contacts}


def rows(table: str, count: int = DEFAULT_ROWS, seed: int = SEED) -> Iterator[dict]:
    return GENERATORS[table](count, seed)
