from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from apps.users.models import TOKEN_PREFIX_SHOWN, ApiToken, User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    """Django's UserAdmin, with the email as the login in place of a username."""

    list_display = ("email", "name", "is_staff", "is_superuser", "is_active", "email_verified_at", "date_joined")
    list_filter = ("is_staff", "is_superuser", "is_active", ("email_verified_at", admin.EmptyFieldListFilter), "groups")
    search_fields = ("email", "name")
    ordering = ("email",)
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Personal info", {"fields": ("name",)}),
        ("Permissions", {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        ("Important dates", {"fields": ("last_login", "date_joined", "email_verified_at")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("email", "name", "usable_password", "password1", "password2")}),
    )


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Staff see and revoke (delete) API tokens; a token is made only by signing in, and never edited."""

    list_display = ("prefix", "user", "label", "created", "expiry")
    list_select_related = ("user",)
    search_fields = ("user__email",)
    fields = ("prefix", "user", "label", "created", "expiry")
    readonly_fields = fields

    @admin.display(description="Prefix")
    def prefix(self, token: ApiToken) -> str:
        return token.token_key[:TOKEN_PREFIX_SHOWN]

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
