"""Small stand-ins for the warehouse and a target, for tests of the engine alone."""

from integrations.base import ConnectorError, RecordOutcome, Writer


def batches(rows, size=3):
    """Rows as a model stream yields them: lists of dicts."""
    rows = list(rows)
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


class FakeTarget(Writer):
    """Keeps records by identity; rejects the identities in `reject` with the given message."""

    batch_size = 2

    def __init__(self, reject=None, fail_with=None):
        self.records = {}
        self.reject = dict(reject or {})
        self.fail_with = fail_with  # an exception raised by every write
        self.sent = []  # every record sent, in order
        self.removed = []
        self.prepared = 0

    def prepare(self):
        self.prepared += 1
        return {}

    def write(self, records):
        if self.fail_with:
            raise self.fail_with
        outcomes = []
        for record in records:
            self.sent.append(record)
            key = str(record.identity)
            if key in self.reject:
                outcomes.append(RecordOutcome(record.identity, ok=False, error=self.reject[key]))
                continue
            action = "updated" if key in self.records else "inserted"
            self.records[key] = dict(record.fields)
            outcomes.append(RecordOutcome(record.identity, ok=True, action=action, target_id=f"t-{key}"))
        return outcomes

    def remove(self, records):
        outcomes = []
        for record in records:
            key = str(record.identity)
            self.removed.append(key)
            self.records.pop(key, None)
            outcomes.append(RecordOutcome(record.identity, ok=True, action="removed"))
        return outcomes


class Broken(ConnectorError):
    pass
