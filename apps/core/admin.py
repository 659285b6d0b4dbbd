"""The admin's view of jobs: django_dramatiq's job log (dead letters are status "failed"), and the outbox."""

from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest
from django_dramatiq.admin import TaskAdmin
from django_dramatiq.models import Task

from apps.core.models import OutboxMessage

admin.site.unregister(Task)

admin.site.site_header = "Headroom administration"
admin.site.site_title = "Headroom administration"
admin.site.index_title = "Headroom administration"


class ReadOnlyAdminMixin:
    """For rows that change only through their app's services or jobs (orders keep stock and totals
    right; reports and imports are written by their job): the admin shows them, and never adds,
    edits or deletes one (a deleted report would also leave its file in storage)."""

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


@admin.register(Task)
class JobAdmin(TaskAdmin):  # type: ignore[misc]  # django_dramatiq is untyped
    """django_dramatiq's own list, one query per page (the message is decoded from its row).

    "failed" means dead-lettered: the last retry failed, or the error is not retried. A job
    waiting for its next retry shows "delayed" (settings.DRAMATIQ_BROKER explains the order).
    """

    list_display = ("actor_name", "status", "queue_name", "created_at", "updated_at", "eta")
    list_filter = ("status", "actor_name", "queue_name")
    search_fields = ("actor_name",)
    date_hierarchy = "updated_at"


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin[OutboxMessage]):
    """Messages waiting for the broker to come back; relay_outbox sends them every minute.
    Read-only, but staff may delete a message that can never be sent."""

    list_display = ("actor_name", "message_id", "queue_name", "attempts", "created_at")
    readonly_fields = ("message_id", "actor_name", "queue_name", "data", "attempts", "last_error", "created_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False
