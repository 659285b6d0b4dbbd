import copy

from rest_framework import serializers

from apps.users.models import TOKEN_PREFIX_SHOWN, ApiToken, User


class SignupInputSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(max_length=128, write_only=True, style={"input_type": "password"})
    name = serializers.CharField(max_length=150, required=False, allow_blank=True, default="")


class TokenInputSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(max_length=128, write_only=True, style={"input_type": "password"})


class TokenOutputSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="The key, shown once: send it as `Authorization: Token <key>`.")
    id = serializers.IntegerField(help_text="Names this token in GET/DELETE /api/v1/auth/tokens/.")
    expiry = serializers.DateTimeField(help_text="Each use moves it forward, up to a maximum age.")


class ApiTokenOutputSerializer(serializers.ModelSerializer):
    prefix = serializers.SerializerMethodField(help_text="The key's first characters, to tell tokens apart.")

    class Meta:
        model = ApiToken
        fields = ["id", "prefix", "label", "created", "expiry"]

    def get_prefix(self, token: ApiToken) -> str:
        return token.token_key[:TOKEN_PREFIX_SHOWN]


class UserOutputSerializer(serializers.ModelSerializer):
    email_verified = serializers.BooleanField(read_only=True)

    class Meta:
        model = User
        fields = ["id", "email", "name", "email_verified"]

    def get_fields(self) -> dict[str, serializers.Field]:
        """The fields ModelSerializer builds from the model, built once per process and copied, as a
        plain Serializer copies its declared ones: building them again costs GET /users/me/ a tenth
        of its time (docs/performance.md, "Signed-in reads")."""
        cls = type(self)
        if cls not in _BUILT_FIELDS:
            _BUILT_FIELDS[cls] = super().get_fields()
        return copy.deepcopy(_BUILT_FIELDS[cls])


_BUILT_FIELDS: dict[type[serializers.Serializer], dict[str, serializers.Field]] = {}


class ProfileUpdateInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=150, required=False, allow_blank=True)


class PasswordResetRequestInputSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)


class PasswordResetConfirmInputSerializer(serializers.Serializer):
    uid = serializers.CharField(max_length=64)
    token = serializers.CharField(max_length=128)
    new_password = serializers.CharField(max_length=128, write_only=True, style={"input_type": "password"})


class EmailVerifyInputSerializer(serializers.Serializer):
    """``token`` is the last part of the emailed link (/verify-email/<token>/)."""

    token = serializers.CharField(max_length=512)


class EmailVerificationResendInputSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)


class DetailOutputSerializer(serializers.Serializer):
    detail = serializers.CharField()
