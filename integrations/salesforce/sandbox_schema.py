"""Object metadata for the Salesforce sandbox: what describe returns and what writes obey.

Field attributes follow the REST describe contract (`name, label, type, length,
nillable, createable, updateable, externalId, unique, picklistValues, ...`).
Lead, Contact and Account carry the standard fields a connector usually maps;
`External_Id__c` is a custom External ID added to each so upserts can be
exercised; `Customer_Score__c` is a custom object.
"""

from __future__ import annotations

import string

SOAP_TYPES = {
    "id": "tns:ID",
    "reference": "tns:ID",
    "boolean": "xsd:boolean",
    "int": "xsd:int",
    "double": "xsd:double",
    "currency": "xsd:double",
    "percent": "xsd:double",
    "date": "xsd:date",
    "datetime": "xsd:dateTime",
}

TEXT_TYPES = ("string", "email", "phone", "url", "textarea", "picklist", "multipicklist", "combobox")
NUMBER_TYPES = ("int", "double", "currency", "percent")


def field(name, label, type_="string", length=None, **overrides):
    """A describe field with the defaults of an ordinary writable, nillable field."""
    if length is None:
        length = {"string": 255, "email": 80, "phone": 40, "url": 255, "textarea": 32000,
                  "picklist": 255, "multipicklist": 4099, "id": 18, "reference": 18}.get(type_, 0)
    custom = name.endswith("__c")
    data = {
        "aggregatable": type_ not in ("textarea",),
        "autoNumber": False,
        "byteLength": length * 3,
        "calculated": False,
        "calculatedFormula": None,
        "cascadeDelete": False,
        "caseSensitive": False,
        "compoundFieldName": None,
        "controllerName": None,
        "createable": True,
        "custom": custom,
        "defaultValue": None,
        "defaultValueFormula": None,
        "defaultedOnCreate": False,
        "dependentPicklist": False,
        "digits": 9 if type_ == "int" else 0,
        "externalId": False,
        "filterable": type_ != "textarea",
        "groupable": type_ not in ("textarea", "double", "currency", "percent", "datetime"),
        "htmlFormatted": False,
        "idLookup": False,
        "inlineHelpText": None,
        "label": label,
        "length": length if type_ in TEXT_TYPES or type_ in ("id", "reference") else 0,
        "name": name,
        "nameField": False,
        "namePointing": False,
        "nillable": True,
        "permissionable": custom,
        "picklistValues": [],
        "polymorphicForeignKey": False,
        "precision": 18 if type_ in ("double", "currency", "percent") else 0,
        "referenceTo": [],
        "relationshipName": None,
        "relationshipOrder": None,
        "restrictedPicklist": False,
        "scale": 2 if type_ in ("double", "currency", "percent") else 0,
        "soapType": SOAP_TYPES.get(type_, "xsd:string"),
        "sortable": type_ != "textarea",
        "type": type_,
        "unique": False,
        "updateable": True,
    }
    data.update(overrides)
    return data


def picklist(name, label, values, default=None, **overrides):
    entries = [
        {"active": True, "defaultValue": value == default, "label": value, "validFor": None, "value": value}
        for value in values
    ]
    return field(name, label, "picklist", picklistValues=entries,
                 defaultedOnCreate=default is not None, **overrides)


def reference(name, label, to, relationship, **overrides):
    return field(name, label, "reference", referenceTo=[to], relationshipName=relationship, **overrides)


def readonly(name, label, type_, **overrides):
    return field(name, label, type_, createable=False, updateable=False, **overrides)


def system_fields():
    """Fields every object has; none of them is writable through the API."""
    return [
        readonly("Id", "Record ID", "id", nillable=False, idLookup=True, defaultedOnCreate=True),
        readonly("IsDeleted", "Deleted", "boolean", nillable=False, defaultedOnCreate=True),
        readonly("CreatedDate", "Created Date", "datetime", nillable=False, defaultedOnCreate=True),
        readonly("CreatedById", "Created By ID", "reference", nillable=False, defaultedOnCreate=True,
                 referenceTo=["User"], relationshipName="CreatedBy"),
        readonly("LastModifiedDate", "Last Modified Date", "datetime", nillable=False, defaultedOnCreate=True),
        readonly("LastModifiedById", "Last Modified By ID", "reference", nillable=False, defaultedOnCreate=True,
                 referenceTo=["User"], relationshipName="LastModifiedBy"),
        readonly("SystemModstamp", "System Modstamp", "datetime", nillable=False, defaultedOnCreate=True),
    ]


def owner_field():
    return reference("OwnerId", "Owner ID", "User", "Owner", nillable=False, defaultedOnCreate=True)


def external_id_field(name="External_Id__c", label="External ID", length=255):
    return field(name, label, "string", length, externalId=True, unique=True, idLookup=True)


SALUTATIONS = ["Mr.", "Ms.", "Mrs.", "Dr.", "Prof."]
LEAD_SOURCES = ["Web", "Phone Inquiry", "Partner Referral", "Purchased List", "Other"]
INDUSTRIES = ["Agriculture", "Banking", "Education", "Energy", "Finance", "Healthcare",
              "Manufacturing", "Media", "Retail", "Technology", "Other"]


def address_fields(prefix, label_prefix):
    return [
        field(f"{prefix}Street", f"{label_prefix} Street", "textarea", 255),
        field(f"{prefix}City", f"{label_prefix} City", "string", 40),
        field(f"{prefix}State", f"{label_prefix} State/Province", "string", 80),
        field(f"{prefix}PostalCode", f"{label_prefix} Zip/Postal Code", "string", 20),
        field(f"{prefix}Country", f"{label_prefix} Country", "string", 80),
    ]


def person_name_fields():
    return [
        field("LastName", "Last Name", "string", 80, nillable=False),
        field("FirstName", "First Name", "string", 40),
        picklist("Salutation", "Salutation", SALUTATIONS),
        readonly("Name", "Full Name", "string", length=121, nillable=False, nameField=True),
    ]


LEAD_FIELDS = system_fields() + person_name_fields() + [
    owner_field(),
    field("Title", "Title", "string", 128),
    field("Company", "Company", "string", 255, nillable=False),
    *address_fields("", ""),
    field("Phone", "Phone", "phone"),
    field("MobilePhone", "Mobile Phone", "phone"),
    field("Email", "Email", "email", idLookup=True),
    field("Website", "Website", "url"),
    field("Description", "Description", "textarea"),
    picklist("LeadSource", "Lead Source", LEAD_SOURCES),
    picklist("Status", "Status", ["Open - Not Contacted", "Working - Contacted", "Closed - Converted",
                                  "Closed - Not Converted"], default="Open - Not Contacted", nillable=False),
    picklist("Industry", "Industry", INDUSTRIES),
    picklist("Rating", "Rating", ["Hot", "Warm", "Cold"]),
    field("AnnualRevenue", "Annual Revenue", "currency"),
    field("NumberOfEmployees", "Employees", "int"),
    field("HasOptedOutOfEmail", "Email Opt Out", "boolean", nillable=False, defaultedOnCreate=True,
          defaultValue=False),
    readonly("IsConverted", "Converted", "boolean", nillable=False, defaultedOnCreate=True),
    readonly("ConvertedContactId", "Converted Contact ID", "reference", referenceTo=["Contact"],
             relationshipName="ConvertedContact"),
    readonly("ConvertedAccountId", "Converted Account ID", "reference", referenceTo=["Account"],
             relationshipName="ConvertedAccount"),
    external_id_field(),
]

CONTACT_FIELDS = system_fields() + person_name_fields() + [
    owner_field(),
    reference("AccountId", "Account ID", "Account", "Account"),
    field("Title", "Title", "string", 128),
    field("Department", "Department", "string", 80),
    *address_fields("Mailing", "Mailing"),
    field("Phone", "Business Phone", "phone"),
    field("MobilePhone", "Mobile Phone", "phone"),
    field("Email", "Email", "email", idLookup=True),
    picklist("LeadSource", "Lead Source", LEAD_SOURCES),
    field("Birthdate", "Birthdate", "date"),
    field("Description", "Contact Description", "textarea"),
    field("HasOptedOutOfEmail", "Email Opt Out", "boolean", nillable=False, defaultedOnCreate=True,
          defaultValue=False),
    external_id_field(),
]

ACCOUNT_FIELDS = system_fields() + [
    field("Name", "Account Name", "string", 255, nillable=False, nameField=True),
    owner_field(),
    picklist("Type", "Account Type", ["Prospect", "Customer - Direct", "Customer - Channel",
                                      "Channel Partner / Reseller", "Technology Partner", "Other"]),
    reference("ParentId", "Parent Account ID", "Account", "Parent"),
    *address_fields("Billing", "Billing"),
    field("Phone", "Account Phone", "phone"),
    field("Website", "Website", "url"),
    picklist("Industry", "Industry", INDUSTRIES),
    field("AnnualRevenue", "Annual Revenue", "currency"),
    field("NumberOfEmployees", "Employees", "int"),
    field("Description", "Account Description", "textarea"),
    picklist("AccountSource", "Account Source", LEAD_SOURCES),
    external_id_field(),
]

CUSTOMER_SCORE_FIELDS = system_fields() + [
    field("Name", "Customer Score Name", "string", 80, nillable=False, nameField=True),
    owner_field(),
    reference("Account__c", "Account", "Account", "Account__r"),
    reference("Contact__c", "Contact", "Contact", "Contact__r"),
    field("Score__c", "Score", "double", precision=5, scale=2),
    picklist("Tier__c", "Tier", ["Bronze", "Silver", "Gold", "Platinum"], restrictedPicklist=True),
    external_id_field("Customer_Id__c", "Customer ID", 64),
    field("Last_Scored_At__c", "Last Scored At", "datetime"),
    field("Is_Active__c", "Active", "boolean", nillable=False, defaultedOnCreate=True, defaultValue=False),
]

USER_FIELDS = [
    readonly("Id", "User ID", "id", nillable=False, idLookup=True, defaultedOnCreate=True),
    readonly("Username", "Username", "string", length=80, nillable=False, idLookup=True, unique=True),
    readonly("Name", "Full Name", "string", length=121, nillable=False, nameField=True),
    readonly("FirstName", "First Name", "string", length=40),
    readonly("LastName", "Last Name", "string", length=80, nillable=False),
    readonly("Email", "Email", "email", nillable=False),
    readonly("IsActive", "Active", "boolean", nillable=False, defaultedOnCreate=True),
    readonly("CreatedDate", "Created Date", "datetime", nillable=False, defaultedOnCreate=True),
    readonly("LastModifiedDate", "Last Modified Date", "datetime", nillable=False, defaultedOnCreate=True),
    readonly("SystemModstamp", "System Modstamp", "datetime", nillable=False, defaultedOnCreate=True),
]


class SObject:
    """One sObject type: its describe metadata and the lookups writes need."""

    def __init__(self, name, label, label_plural, key_prefix, fields, *, writable=True):
        self.name = name
        self.label = label
        self.label_plural = label_plural
        self.key_prefix = key_prefix
        self.fields = fields
        self.custom = name.endswith("__c")
        self.writable = writable
        self.by_lower = {f["name"].lower(): f for f in fields}
        self.relationships = {
            f["relationshipName"].lower(): f for f in fields if f["type"] == "reference" and f["relationshipName"]
        }

    def field(self, name):
        return self.by_lower.get(name.lower())

    def required_on_create(self):
        return [f["name"] for f in self.fields
                if f["createable"] and not f["nillable"] and not f["defaultedOnCreate"]]

    def defaults(self):
        values = {}
        for f in self.fields:
            if f["createable"] and f["defaultedOnCreate"]:
                if f["type"] == "picklist":
                    default = next((p["value"] for p in f["picklistValues"] if p["defaultValue"]), None)
                    if default is not None:
                        values[f["name"]] = default
                elif f["defaultValue"] is not None:
                    values[f["name"]] = f["defaultValue"]
        return values

    def urls(self, version):
        base = f"/services/data/v{version}/sobjects/{self.name}"
        return {
            "sobject": base,
            "describe": f"{base}/describe",
            "rowTemplate": f"{base}/{{ID}}",
            "defaultValues": f"{base}/defaultValues?recordTypeId&fields",
            "compactLayouts": f"{base}/describe/compactLayouts",
            "approvalLayouts": f"{base}/describe/approvalLayouts",
            "layouts": f"{base}/describe/layouts",
            "quickActions": f"{base}/quickActions",
        }

    def summary(self, version):
        """The describeGlobal entry."""
        return {
            "activateable": False,
            "createable": self.writable,
            "custom": self.custom,
            "customSetting": False,
            "deepCloneable": False,
            "deletable": self.writable,
            "deprecatedAndHidden": False,
            "feedEnabled": not self.custom,
            "hasSubtypes": False,
            "isInterface": False,
            "isSubtype": False,
            "keyPrefix": self.key_prefix,
            "label": self.label,
            "labelPlural": self.label_plural,
            "layoutable": True,
            "mergeable": self.name in ("Lead", "Contact", "Account"),
            "mruEnabled": True,
            "name": self.name,
            "queryable": True,
            "replicateable": True,
            "retrieveable": True,
            "searchable": True,
            "triggerable": True,
            "undeletable": self.writable,
            "updateable": self.writable,
            "urls": {k: v for k, v in self.urls(version).items() if k in ("sobject", "describe", "rowTemplate")},
        }

    def describe(self, version):
        data = self.summary(version)
        data.update({
            "actionOverrides": [],
            "childRelationships": [],
            "compactLayoutQueryable": True,
            "fields": self.fields,
            "listviewable": None,
            "lookupLayoutable": None,
            "namedLayoutInfos": [],
            "networkScopeFieldName": None,
            "recordTypeInfos": [{
                "active": True, "available": True, "defaultRecordTypeMapping": True,
                "developerName": "Master", "master": True, "name": "Master",
                "recordTypeId": "012000000000000AAA",
                "urls": {"layout": f"/services/data/v{version}/sobjects/{self.name}/describe/layouts/012000000000000AAA"},
            }],
            "searchLayoutable": True,
            "supportedScopes": [{"label": "All " + self.label_plural.lower(), "name": "everything"}],
            "urls": self.urls(version),
        })
        return data


SOBJECTS = {
    obj.name: obj
    for obj in (
        SObject("Account", "Account", "Accounts", "001", ACCOUNT_FIELDS),
        SObject("Contact", "Contact", "Contacts", "003", CONTACT_FIELDS),
        SObject("Lead", "Lead", "Leads", "00Q", LEAD_FIELDS),
        SObject("User", "User", "Users", "005", USER_FIELDS, writable=False),
        SObject("Customer_Score__c", "Customer Score", "Customer Scores", "a01", CUSTOMER_SCORE_FIELDS),
    )
}
SOBJECTS_LOWER = {name.lower(): obj for name, obj in SOBJECTS.items()}
BY_PREFIX = {obj.key_prefix: obj for obj in SOBJECTS.values()}


def sobject(name):
    return SOBJECTS_LOWER.get((name or "").lower())


# Record ids: 15 case-sensitive characters (3-character key prefix, then the
# rest), plus a 3-character suffix that encodes which of the 15 are upper case.
BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
SUFFIX = string.ascii_uppercase + "012345"


def id_suffix(id15):
    suffix = ""
    for chunk in range(3):
        bits = 0
        for position, char in enumerate(id15[chunk * 5:chunk * 5 + 5]):
            if char in string.ascii_uppercase:
                bits |= 1 << position
        suffix += SUFFIX[bits]
    return suffix


def make_id(key_prefix, number, pod="5g0"):
    """An 18-character record id, unique per (prefix, number)."""
    body = ""
    while number:
        number, rest = divmod(number, 62)
        body = BASE62[rest] + body
    id15 = key_prefix + pod + body.rjust(9, "0")
    return id15 + id_suffix(id15)


def to_18(record_id):
    """Accept a 15- or 18-character id and return the 18-character form, or None."""
    if not isinstance(record_id, str) or len(record_id) not in (15, 18):
        return None
    if any(c not in BASE62 for c in record_id):
        return None
    id15 = record_id[:15]
    return id15 + id_suffix(id15)
