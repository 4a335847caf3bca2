"""Configuration fields that hold secrets (an HTTP API connection's headers, whose values
are secret) move from the plain configuration to the encrypted secrets."""

from django.db import migrations

from console.crypto import decrypt_json, encrypt_json
from integrations import catalogue


def secret_holders(type_id: str) -> list[str]:
    kind = catalogue.get(type_id)
    return [f.name for f in kind.fields if f.holds_secrets] if kind else []


def to_secrets(apps, schema_editor):
    Connection = apps.get_model("connections", "Connection")
    for connection in Connection.objects.iterator():
        moving = [name for name in secret_holders(connection.type) if name in connection.configuration]
        if not moving:
            continue
        secrets = decrypt_json(connection.encrypted_secrets)
        for name in moving:
            secrets[name] = connection.configuration.pop(name)
        connection.encrypted_secrets = encrypt_json(secrets)
        connection.save(update_fields=["configuration", "encrypted_secrets"])


def to_configuration(apps, schema_editor):
    """Back: only the arrays go back to the plain configuration (secret fields were always encrypted)."""
    Connection = apps.get_model("connections", "Connection")
    for connection in Connection.objects.iterator():
        kind = catalogue.get(connection.type)
        arrays = [f.name for f in kind.fields if f.secret_keys] if kind else []
        secrets = decrypt_json(connection.encrypted_secrets)
        moving = [name for name in arrays if name in secrets]
        if not moving:
            continue
        for name in moving:
            connection.configuration[name] = secrets.pop(name)
        connection.encrypted_secrets = encrypt_json(secrets)
        connection.save(update_fields=["configuration", "encrypted_secrets"])


class Migration(migrations.Migration):

    dependencies = [
        ("connections", "0002_oauth_state"),
    ]

    operations = [
        migrations.RunPython(to_secrets, to_configuration),
    ]
