from django.db import models


class DiscoveryCache(models.Model):
    """What a target connection last said about its objects, or one object's fields.

    key is "objects" or "fields:<object id>"; data keeps the integrations'
    dataclasses as plain dicts.
    """

    connection = models.ForeignKey(
        "connections.Connection", on_delete=models.CASCADE, related_name="discovery_cache"
    )
    key = models.CharField(max_length=500)
    data = models.JSONField()
    refreshed_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["connection", "key"], name="one_discovery_entry_per_key")
        ]
