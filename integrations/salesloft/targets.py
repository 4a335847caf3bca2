"""Salesloft targets: Accounts, People, every cadence, activities and account redaction.

Object ids: "people", "accounts", "cadence:<cadence id>" for each cadence (a cadence
sync upserts the person, then adds them to the cadence), "activity:call",
"activity:email" and "activity:note" (each row logged once as a new activity of that
type, for the person found by email or id), and "account_redaction" (an irreversible
redaction request per account, which a sync must confirm). Target field ids are
Polytomic's ("Email", "FirstName", ...); PERSON_ATTRIBUTES and ACCOUNT_ATTRIBUTES name
the Salesloft attribute each one writes. Custom fields are "custom:<name>" and go into
the record's `custom_fields`.
"""

from integrations.base import BOOLEAN, INTEGER, STRING, ARRAY, ConfigField, TargetField, TargetObject
from integrations.provider import Targets
from integrations.targets import get_json, mode

LABEL = "Salesloft"
CADENCE_PREFIX = "cadence:"
CUSTOM_PREFIX = "custom:"
PER_PAGE = 100

PERSON_ATTRIBUTES = {
    "Email": "email_address",
    "FirstName": "first_name",
    "LastName": "last_name",
    "Title": "title",
    "Phone": "phone",
    "PhoneExtension": "phone_extension",
    "MobilePhone": "mobile_phone",
    "HomePhone": "home_phone",
    "Company": "person_company_name",
    "CompanyWebsite": "person_company_website",
    "CompanyIndustry": "person_company_industry",
    "City": "city",
    "State": "state",
    "Country": "country",
    "WorkCity": "work_city",
    "WorkState": "work_state",
    "WorkCountry": "work_country",
    "LinkedInUrl": "linkedin_url",
    "TwitterHandle": "twitter_handle",
    "PersonalWebsite": "personal_website",
    "PersonalEmail": "personal_email_address",
    "SecondaryEmail": "secondary_email_address",
    "JobSeniority": "job_seniority",
    "DoNotContact": "do_not_contact",
    "Locale": "locale",
    "OwnerId": "owner_id",
    "AccountId": "account_id",
    "PersonStageId": "person_stage_id",
    "Tags": "tags",
    "CrmId": "crm_id",
    "Id": "id",
}

ACCOUNT_ATTRIBUTES = {
    "Domain": "domain",
    "Name": "name",
    "Website": "website",
    "Industry": "industry",
    "Phone": "phone",
    "Description": "description",
    "Street": "street",
    "City": "city",
    "State": "state",
    "PostalCode": "postal_code",
    "Country": "country",
    "LinkedInUrl": "linkedin_url",
    "TwitterHandle": "twitter_handle",
    "CompanyType": "company_type",
    "Size": "size",
    "FoundedYear": "founded",
    "Revenue": "revenue_range",
    "OwnerId": "owner_id",
    "AccountTierId": "account_tier_id",
    "Tags": "tags",
    "DoNotContact": "do_not_contact",
    "CrmId": "crm_id",
    "Id": "id",
}

FIELD_TYPES = {
    "DoNotContact": BOOLEAN,
    "OwnerId": INTEGER,
    "AccountId": INTEGER,
    "PersonStageId": INTEGER,
    "AccountTierId": INTEGER,
    "Tags": ARRAY,
}

FIELD_NAMES = {
    "Email": "Email address",
    "FirstName": "First name",
    "LastName": "Last name",
    "CrmId": "CRM id",
    "Id": "Salesloft id",
    "Company": "Company name",
    "LinkedInUrl": "LinkedIn URL",
    "PersonalEmail": "Personal email address",
    "SecondaryEmail": "Secondary email address",
}

PERSON_IDENTITIES = ("Email", "CrmId", "Id")
ACCOUNT_IDENTITIES = ("Domain", "CrmId", "Id")

ACTIVITY_PREFIX = "activity:"
ACTIVITY_NAMES = {"call": "calls", "email": "emails", "note": "notes"}
# (field id, name, type, description): who the activity is about, then what each type carries
ACTIVITY_PEOPLE = (
    ("PersonEmail", "Person's email", STRING, "The person's email address, resolved to their Salesloft id"),
    ("PersonId", "Person id", INTEGER, "Salesloft `person_id`"),
)
ACTIVITY_FIELDS = {
    "call": (
        ("UserId", "User id", INTEGER, "Salesloft `user_id` of the rep who called (default: the connected user)"),
        ("Note", "Note", STRING, "Salesloft `notes` of the call"),
        ("To", "Phone number called", STRING, "Salesloft `to`"),
        ("Duration", "Duration (seconds)", INTEGER, "Salesloft `duration`"),
        ("Disposition", "Disposition", STRING, "Salesloft `disposition`"),
        ("Sentiment", "Sentiment", STRING, "Salesloft `sentiment`"),
    ),
    "email": (
        ("UserId", "User id", INTEGER, "Salesloft `user_id` of the rep who sent it (default: the connected user)"),
        ("OccurredAt", "Occurred at", STRING, "When the email was sent (ISO 8601): its Date"),
        ("Subject", "Subject", STRING, "The email's subject"),
        ("Note", "Body", STRING, "The email's text"),
    ),
    "note": (
        ("AccountId", "Account id", INTEGER, "Salesloft `account_id`: the note is on the account when no person is given"),
        ("UserId", "User id", INTEGER, "Salesloft `user_id` of the note's author (default: the connected user)"),
        ("Note", "Note", STRING, "Salesloft `content` of the note"),
        ("Subject", "Subject", STRING, "Salesloft `subject` of the note's CRM activity"),
    ),
}
ACTIVITY_IDENTITIES = ("PersonEmail", "PersonId", "AccountId")

REDACTION = "account_redaction"
REDACTION_WORD = "REDACT"
REDACTION_WARNING = (
    "Redaction is irreversible: Salesloft permanently removes the personal data of each account "
    "the model returns and of all of the account's people."
)
CONFIRM_REDACTION = ConfigField(
    "confirm_redaction", f"Type {REDACTION_WORD} to confirm", required=True, choices=(REDACTION_WORD,),
    description=f"{REDACTION_WARNING} The API takes true.",
)


ACCOUNT_DELETE_WARNING = (
    "Delete the matching accounts. Deletion is permanent and cannot be undone: Salesloft also removes "
    "data linked to the account, such as cadence memberships and activity history. A run never deletes "
    "more than half of the team's accounts unless it is started allowing removals."
)


def record_modes():
    return (
        mode("updateOrCreate", per_field=True, description="Update people who exist (matched on the identity) and create the rest."),
        mode("create", per_field=True, description="Create people who do not exist yet; leave existing people alone."),
        mode("update", per_field=True, description="Update people who already exist; never create anyone."),
    )


def account_modes():
    return (
        mode("updateOrCreate", per_field=True, description="Update accounts that exist (matched on the identity) and create the rest."),
        mode("create", per_field=True, description="Create accounts that do not exist yet; leave existing ones alone."),
        mode("update", per_field=True, description="Update accounts that already exist; never create new ones."),
        mode("remove", description=ACCOUNT_DELETE_WARNING),
    )


def activity_modes(kind):
    return (mode("create", description=f"Log each row as a new {kind} in Salesloft, once: a row already "
                                       "logged is not logged again."),)


def redaction_modes():
    return (mode("remove", description=f"Submit a redaction request for each account. {REDACTION_WARNING}"),)


def configuration_fields(object_id):
    return [CONFIRM_REDACTION] if object_id == REDACTION else []


def cadence_modes():
    return (
        mode("updateOrCreate", per_field=True, description="Create or update each person, then add them to the cadence."),
        mode("update", per_field=True, description="Update people who already exist and add them to the cadence; skip the rest."),
        mode("remove", description="Take the matching people off the cadence."),
    )


def objects(session):
    found = [
        TargetObject("accounts", "Accounts", account_modes()),
        TargetObject("people", "People", record_modes()),
        *(TargetObject(f"{ACTIVITY_PREFIX}{kind}", f"Activities: {name}", activity_modes(kind))
          for kind, name in ACTIVITY_NAMES.items()),
        TargetObject(REDACTION, "Account and people redaction", redaction_modes()),
    ]
    for cadence in sorted(cadences(session), key=lambda c: c["name"].lower()):
        found.append(TargetObject(f"{CADENCE_PREFIX}{cadence['id']}", f"Cadence: {cadence['name']}", cadence_modes()))
    return found


def cadences(session) -> list[dict]:
    """Every cadence people can be added to (archived ones left out)."""
    page, found = 1, []
    while page:
        body = get_json(session, "cadences.json", params={"per_page": PER_PAGE, "page": page})
        found.extend(c for c in body.get("data") or [] if not c.get("archived_at"))
        page = ((body.get("metadata") or {}).get("paging") or {}).get("next_page")
    return found


def cadence_id(object_id: str) -> str | None:
    return object_id[len(CADENCE_PREFIX):] if object_id.startswith(CADENCE_PREFIX) else None


def activity_kind(object_id: str) -> str | None:
    kind = object_id[len(ACTIVITY_PREFIX):] if object_id.startswith(ACTIVITY_PREFIX) else None
    return kind if kind in ACTIVITY_NAMES else None


def fields(session, object_id, properties=None):
    kind = activity_kind(object_id or "")
    if kind:
        return [TargetField(id=field_id, name=name, type=type_, description=description,
                            identity=field_id in ACTIVITY_IDENTITIES, updateable=False,
                            required=field_id == "Note" and kind == "note")
                for field_id, name, type_, description in ACTIVITY_PEOPLE + ACTIVITY_FIELDS[kind]]
    if object_id == REDACTION:
        return [TargetField(id=field_id, name=FIELD_NAMES.get(field_id, split_words(field_id)), identity=True,
                            type=INTEGER if field_id == "Id" else STRING, updateable=False,
                            description=f"The account to redact, by Salesloft `{ACCOUNT_ATTRIBUTES[field_id]}`")
                for field_id in ACCOUNT_IDENTITIES]
    if object_id == "accounts":
        standard = standard_fields(ACCOUNT_ATTRIBUTES, ACCOUNT_IDENTITIES, required=("Name", "Domain"))
        return standard + custom_fields(session, "company")
    if object_id == "people" or (object_id or "").startswith(CADENCE_PREFIX):
        return standard_fields(PERSON_ATTRIBUTES, PERSON_IDENTITIES) + custom_fields(session, "person")
    raise KeyError(object_id)


def standard_fields(attributes, identities, required=()):
    return [
        TargetField(
            id=field_id,
            name=FIELD_NAMES.get(field_id, split_words(field_id)),
            type=FIELD_TYPES.get(field_id, STRING),
            required=field_id in required,
            identity=field_id in identities,
            createable=field_id != "Id",
            updateable=field_id != "Id",
            description=f"Salesloft `{attribute}`",
        )
        for field_id, attribute in attributes.items()
    ]


def custom_fields(session, field_type):
    page, found = 1, []
    while page:
        body = get_json(
            session, "custom_fields.json",
            params={"field_type": field_type, "per_page": PER_PAGE, "page": page},
        )
        for custom in body.get("data") or []:
            found.append(TargetField(
                id=f"{CUSTOM_PREFIX}{custom['name']}",
                name=f"{custom['name']} (custom)",
                type=STRING,
                description=f"Salesloft custom field ({custom.get('value_type') or 'text'})",
            ))
        page = ((body.get("metadata") or {}).get("paging") or {}).get("next_page")
    return found


def split_words(field_id: str) -> str:
    words, word = [], ""
    for char in field_id:
        if char.isupper() and word and not word[-1].isupper():
            words.append(word)
            word = ""
        word += char
    words.append(word)
    return " ".join([words[0]] + [w.lower() if not w.isupper() else w for w in words[1:]])


def sentence(obj, mode_id, identity):
    matched = f" matched on {identity}" if identity else ""
    cadence = obj.id.startswith(CADENCE_PREFIX)
    name = obj.name.split(": ", 1)[1] if cadence else obj.name
    if obj.id == REDACTION:
        return f"Redact Salesloft accounts{matched} and their people, irreversibly"
    if obj.id.startswith(ACTIVITY_PREFIX):
        return f"Log {name.split(': ')[-1]} in Salesloft for the person{matched}"
    if not cadence:
        verbs = {"updateOrCreate": "Upsert", "create": "Create", "update": "Update", "remove": "Delete"}
        return f"{verbs.get(mode_id, mode_id)} {name} in Salesloft{matched}"
    if mode_id == "remove":
        return f"Remove people{matched} from the Salesloft cadence {name}"
    if mode_id == "update":
        return f"Update existing People in Salesloft{matched}, then add them to cadence {name}"
    return f"Upsert People in Salesloft{matched}, then add them to cadence {name}"


TARGETS = Targets(label=LABEL, objects=objects, fields=fields, sentence=sentence,
                  configuration_fields=configuration_fields)
