"""A bulk-sync source in memory, shaped like integrations/salesforce/bulk_source.py.

    fake = FakeSource()
    fake.records["Contact"] = [{"Id": "c1", "Email": "a@x.example", "SystemModstamp": "2026-01-01T00:00:00Z"}]

Installed in place of the Salesforce source by the `fake_source` fixture, so the
API and the runs can be tested without the sandbox.
"""

from integrations.base import BOOLEAN, DATETIME, NUMBER, STRING, ConnectorError

FIELDS = {
    "Contact": [("Id", STRING), ("Email", STRING), ("LastName", STRING), ("Score__c", NUMBER),
                ("SystemModstamp", DATETIME)],
    "Account": [("Id", STRING), ("Name", STRING), ("IsActive__c", BOOLEAN), ("SystemModstamp", DATETIME)],
}


class FakeSession:
    config = {}

    class http:  # noqa: N801 - what the services close
        @staticmethod
        def close():
            pass


class FakeSource:
    KEY = "Id"

    def __init__(self):
        self.fields_of = {name: list(fields) for name, fields in FIELDS.items()}
        self.records = {name: [] for name in FIELDS}
        self.broken = False  # every call fails, as an unreachable source does
        self.reads = []  # (object_id, since) per read
        self.after_batch = None  # called after each batch read, e.g. to cancel mid-run

    def check(self):
        if self.broken:
            raise ConnectorError("Could not reach Salesforce: connection refused")

    def objects(self, session):
        self.check()
        return [{"id": name, "name": name} for name in self.fields_of]

    def fields(self, session, object_id):
        self.check()
        return [{"id": name, "name": name, "type": type_, "remote_type": type_, "is_primary_key": name == "Id"}
                for name, type_ in self.fields_of[object_id]]

    @staticmethod
    def tracking_field(object_id, field_ids):
        return "SystemModstamp" if "SystemModstamp" in field_ids else None

    def Read(self, session, object_id, field_ids, since=None, include_deleted=True):  # noqa: N802 - a class there
        self.check()
        self.reads.append((object_id, since))
        return FakeRead(self, object_id, field_ids, since, include_deleted)


class FakeRead:
    def __init__(self, source, object_id, field_ids, since, include_deleted):
        self.source, self.object_id, self.field_ids = source, object_id, field_ids
        self.since, self.include_deleted = since, include_deleted
        self.cursor = since

    def __iter__(self):
        changed = sorted((r for r in self.source.records[self.object_id]
                          if not self.since or r["SystemModstamp"] > self.since),
                         key=lambda r: r["SystemModstamp"])
        if not self.include_deleted:
            changed = [r for r in changed if not r.get("_deleted")]
        for start in range(0, len(changed), 2):
            batch = [{**{f: r.get(f) for f in self.field_ids}, "_deleted": bool(r.get("_deleted"))}
                     for r in changed[start:start + 2]]
            self.cursor = batch[-1]["SystemModstamp"]
            yield batch
            if self.source.after_batch:
                self.source.after_batch()
