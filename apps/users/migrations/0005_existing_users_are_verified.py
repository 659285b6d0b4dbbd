from django.db import migrations
from django.utils import timezone


def mark_existing_users_verified(apps, schema_editor):
    # Accounts from before verification existed keep working as they did: they count as verified.
    User = apps.get_model("users", "User")
    User.objects.filter(email_verified_at__isnull=True).update(email_verified_at=timezone.now())


class Migration(migrations.Migration):
    dependencies = [
        ("users", "0004_user_email_verified_at"),
    ]

    operations = [
        migrations.RunPython(mark_existing_users_verified, migrations.RunPython.noop, elidable=True),
    ]
