"""The plain-text tokens of rest_framework.authtoken become hashed API tokens; the plain text goes.

A client keeps its key: knox finds a token by the key's first 15 characters and checks the
SHA-512 of the whole key, whatever its length, so the digest of an old 40-character key works.
Each moved token expires like a fresh one (settings.REST_KNOX), counted from this migration.
The old table is read by SQL because rest_framework.authtoken is no longer installed; it stays
(empty) until a later release drops it, so the previous release keeps running during the deploy.
"""

from datetime import UTC

from django.conf import settings
from django.db import migrations
from django.utils import timezone
from knox.crypto import hash_token
from knox.settings import CONSTANTS

DRF_TOKEN_TABLE = "authtoken_token"


def move_drf_tokens(apps, schema_editor) -> None:
    connection = schema_editor.connection
    if DRF_TOKEN_TABLE not in connection.introspection.table_names():
        return
    ApiToken = apps.get_model("users", "ApiToken")
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {quote('key')}, {quote('user_id')}, {quote('created')} FROM {quote(DRF_TOKEN_TABLE)}")
        rows = cursor.fetchall()
    expiry = timezone.now() + settings.REST_KNOX["TOKEN_TTL"]
    moved = ApiToken.objects.bulk_create([
        ApiToken(digest=hash_token(key), token_key=key[:CONSTANTS.TOKEN_KEY_LENGTH], user_id=user_id, expiry=expiry,
                 label="Token from before hashed tokens")
        for key, user_id, _created in rows
    ])
    # created is auto_now_add, which bulk_create sets: keep each token's real sign-in time.
    for token, (_key, _user_id, created) in zip(moved, rows, strict=True):
        token.created = timezone.make_aware(created, UTC) if timezone.is_naive(created) else created
    ApiToken.objects.bulk_update(moved, ["created"], batch_size=500)
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {quote(DRF_TOKEN_TABLE)}")


class Migration(migrations.Migration):

    dependencies = [
        ("users", "0002_api_token"),
    ]

    # Irreversible by nature: the plain-text keys are gone. Going back leaves the hashed tokens.
    operations = [migrations.RunPython(move_drf_tokens, reverse_code=migrations.RunPython.noop)]
