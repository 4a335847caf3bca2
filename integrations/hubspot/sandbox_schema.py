"""Property definitions and value rules for the HubSpot sandbox (CRM v3 properties API shape).

Values travel as strings in both directions; writes are checked against the
property type the way HubSpot reports them: unknown property, invalid email,
option not allowed, number or date not parseable, read-only value.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone

OBJECT_TYPE_IDS = {"contacts": "0-1", "companies": "0-2", "deals": "0-3"}
OBJECT_TYPES = {"0-1": "contacts", "0-2": "companies", "0-3": "deals", "contact": "contacts", "company": "companies",
                "deal": "deals", "contacts": "contacts", "companies": "companies", "deals": "deals"}
SINGULAR = {"contacts": "CONTACT", "companies": "COMPANY", "deals": "DEAL"}
LAST_MODIFIED = {"contacts": "lastmodifieddate", "companies": "hs_lastmodifieddate", "deals": "hs_lastmodifieddate"}
DEFAULT_PROPERTIES = {
    "contacts": ["createdate", "email", "firstname", "hs_object_id", "lastmodifieddate", "lastname"],
    "companies": ["createdate", "domain", "hs_lastmodifieddate", "hs_object_id", "name"],
    "deals": ["amount", "closedate", "createdate", "dealname", "dealstage", "hs_lastmodifieddate", "hs_object_id",
              "pipeline"],
}
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
EPOCH = "2020-01-01T00:00:00Z"

FIELD_TYPES = {"string": "text", "number": "number", "bool": "booleancheckbox", "date": "date",
               "datetime": "date", "enumeration": "select"}


def prop(name, label, type_="string", group="", *, options=(), field_type=None, read_only=False,
         unique=False, hubspot_defined=True, order=-1, description=""):
    return {
        "name": name,
        "label": label,
        "type": type_,
        "fieldType": field_type or FIELD_TYPES[type_],
        "groupName": group,
        "description": description,
        "options": [
            {"label": label_, "value": value, "displayOrder": i, "hidden": False, "description": ""}
            for i, (label_, value) in enumerate(options)
        ],
        "displayOrder": order,
        "calculated": False,
        "externalOptions": False,
        "hasUniqueValue": unique,
        "hidden": False,
        "hubspotDefined": hubspot_defined,
        "formField": not read_only,
        "modificationMetadata": {"archivable": not hubspot_defined, "readOnlyDefinition": hubspot_defined,
                                 "readOnlyValue": read_only},
        "createdAt": EPOCH,
        "updatedAt": EPOCH,
        "archived": False,
    }


LIFECYCLE = [("Subscriber", "subscriber"), ("Lead", "lead"), ("Marketing Qualified Lead", "marketingqualifiedlead"),
             ("Sales Qualified Lead", "salesqualifiedlead"), ("Opportunity", "opportunity"),
             ("Customer", "customer"), ("Evangelist", "evangelist"), ("Other", "other")]
LEAD_STATUS = [("New", "NEW"), ("Open", "OPEN"), ("In Progress", "IN_PROGRESS"), ("Open Deal", "OPEN_DEAL"),
               ("Unqualified", "UNQUALIFIED"), ("Attempted to Contact", "ATTEMPTED_TO_CONTACT"),
               ("Connected", "CONNECTED"), ("Bad Timing", "BAD_TIMING")]
INDUSTRY = [("Computer Software", "COMPUTER_SOFTWARE"), ("Financial Services", "FINANCIAL_SERVICES"),
            ("Hospital & Health Care", "HOSPITAL_HEALTH_CARE"), ("Retail", "RETAIL"),
            ("Education Management", "EDUCATION_MANAGEMENT"), ("Marketing and Advertising", "MARKETING_AND_ADVERTISING")]
TIERS = [("Bronze", "bronze"), ("Silver", "silver"), ("Gold", "gold"), ("Platinum", "platinum")]


def system_properties(last_modified):
    return [
        prop("createdate", "Create Date", "datetime", "contactinformation" if last_modified == "lastmodifieddate"
             else "companyinformation", read_only=True),
        prop(last_modified, "Last Modified Date", "datetime", "contactinformation"
             if last_modified == "lastmodifieddate" else "companyinformation", read_only=True),
        prop("hs_object_id", "Record ID", "number", "contactinformation" if last_modified == "lastmodifieddate"
             else "companyinformation", read_only=True),
    ]


CONTACT_PROPERTIES = system_properties("lastmodifieddate") + [
    prop("email", "Email", "string", "contactinformation", order=3),
    prop("firstname", "First Name", "string", "contactinformation", order=0),
    prop("lastname", "Last Name", "string", "contactinformation", order=1),
    prop("phone", "Phone Number", "string", "contactinformation", field_type="phonenumber"),
    prop("mobilephone", "Mobile Phone Number", "string", "contactinformation", field_type="phonenumber"),
    prop("company", "Company Name", "string", "contactinformation"),
    prop("website", "Website URL", "string", "contactinformation"),
    prop("jobtitle", "Job Title", "string", "contactinformation"),
    prop("address", "Street Address", "string", "contactinformation"),
    prop("city", "City", "string", "contactinformation"),
    prop("state", "State/Region", "string", "contactinformation"),
    prop("zip", "Postal Code", "string", "contactinformation"),
    prop("country", "Country/Region", "string", "contactinformation"),
    prop("date_of_birth", "Date of birth", "date", "contactinformation"),
    prop("lifecyclestage", "Lifecycle Stage", "enumeration", "contactinformation", options=LIFECYCLE,
         field_type="radio"),
    prop("hs_lead_status", "Lead Status", "enumeration", "sales_properties", options=LEAD_STATUS,
         field_type="radio"),
    prop("hs_email_optout", "Unsubscribed from all email", "bool", "emailinformation",
         options=[("True", "true"), ("False", "false")]),
    prop("annualrevenue", "Annual Revenue", "number", "contactinformation"),
    prop("customer_tier", "Customer tier", "enumeration", "contactinformation", options=TIERS,
         hubspot_defined=False),
    prop("external_id", "External ID", "string", "contactinformation", unique=True, hubspot_defined=False),
]

COMPANY_PROPERTIES = system_properties("hs_lastmodifieddate") + [
    prop("name", "Company name", "string", "companyinformation", order=0),
    prop("domain", "Company Domain Name", "string", "companyinformation", order=1),
    prop("website", "Website URL", "string", "companyinformation"),
    prop("phone", "Phone Number", "string", "companyinformation", field_type="phonenumber"),
    prop("city", "City", "string", "companyinformation"),
    prop("state", "State/Region", "string", "companyinformation"),
    prop("country", "Country/Region", "string", "companyinformation"),
    prop("industry", "Industry", "enumeration", "companyinformation", options=INDUSTRY),
    prop("numberofemployees", "Number of Employees", "number", "companyinformation"),
    prop("annualrevenue", "Annual Revenue", "number", "companyinformation"),
    prop("description", "Description", "string", "companyinformation", field_type="textarea"),
    prop("lifecyclestage", "Lifecycle Stage", "enumeration", "companyinformation", options=LIFECYCLE,
         field_type="radio"),
    prop("external_id", "External ID", "string", "companyinformation", unique=True, hubspot_defined=False),
]

DEAL_STAGES = [("Appointment Scheduled", "appointmentscheduled"), ("Qualified To Buy", "qualifiedtobuy"),
               ("Contract Sent", "contractsent"), ("Closed Won", "closedwon"), ("Closed Lost", "closedlost")]
DEAL_PROPERTIES = system_properties("hs_lastmodifieddate") + [
    prop("dealname", "Deal Name", "string", "dealinformation", order=0),
    prop("amount", "Amount", "number", "dealinformation", order=1),
    prop("dealstage", "Deal Stage", "enumeration", "dealinformation", options=DEAL_STAGES, field_type="radio"),
    prop("pipeline", "Pipeline", "enumeration", "dealinformation", options=[("Sales Pipeline", "default")]),
    prop("closedate", "Close Date", "datetime", "dealinformation"),
]

BUILTIN_PROPERTIES = {"contacts": CONTACT_PROPERTIES, "companies": COMPANY_PROPERTIES, "deals": DEAL_PROPERTIES}


def now_iso():
    moment = datetime.now(timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def to_epoch_ms(value):
    """An ISO timestamp or epoch-millisecond string as epoch milliseconds, or None."""
    text = str(value).strip()
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return int(moment.timestamp() * 1000)


def check_value(definition, value):
    """(normalised string value, None) or (None, (code, message)) for one property write."""
    name = definition["name"]
    if definition["modificationMetadata"]["readOnlyValue"]:
        return None, ("READ_ONLY_VALUE", f'Property "{name}" is read-only and cannot be set')
    if value is None or value == "":
        return "", None  # an empty string clears the value
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, (int, float)):
        text = repr(value) if isinstance(value, float) and not value.is_integer() else str(int(value))
    elif isinstance(value, str):
        text = value
    else:
        return None, ("INVALID_PROPERTY_VALUE", f"{value!r} is not a valid value for {name}")
    kind = definition["type"]
    if name == "email" and not EMAIL.match(text):
        return None, ("INVALID_EMAIL", f"Email address {text} is invalid")
    if kind == "number":
        try:
            number = float(text)
        except ValueError:
            return None, ("INVALID_LONG", f"{text} is not a valid number")
        text = str(int(number)) if number.is_integer() and "." not in text else text
    elif kind == "bool":
        if text.lower() not in ("true", "false"):
            return None, ("INVALID_BOOLEAN", f"{text} is not a valid boolean value")
        text = text.lower()
    elif kind == "enumeration":
        allowed = [o["value"] for o in definition["options"]]
        chosen = text.split(";") if definition["fieldType"] == "checkbox" else [text]
        bad = [c for c in chosen if c not in allowed]
        if bad:
            return None, ("INVALID_OPTION", f'{bad[0]} was not one of the allowed options: [{", ".join(allowed)}]')
    elif kind in ("date", "datetime"):
        millis = to_epoch_ms(text)
        if millis is None:
            return None, ("INVALID_DATE", f"{text} is not a valid {kind} value")
        if kind == "date":
            if millis % 86_400_000:
                return None, ("INVALID_DATE", f"{text} is not at midnight UTC; date properties take midnight values")
            text = datetime.fromtimestamp(millis / 1000, timezone.utc).strftime("%Y-%m-%d")
        else:
            moment = datetime.fromtimestamp(millis / 1000, timezone.utc)
            text = moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{millis % 1000:03d}Z"
    return text, None
