from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from apps.core.api import validated_input
from apps.core.pagination import QuerysetOrderCursorPagination
from apps.core.schema import error_responses
from apps.users import selectors, services
from apps.users.authentication import TokenAuthentication
from apps.users.models import ApiToken
from apps.users.serializers import (
    ApiTokenOutputSerializer,
    DetailOutputSerializer,
    EmailVerificationResendInputSerializer,
    EmailVerifyInputSerializer,
    PasswordResetConfirmInputSerializer,
    PasswordResetRequestInputSerializer,
    ProfileUpdateInputSerializer,
    SignupInputSerializer,
    TokenInputSerializer,
    TokenOutputSerializer,
    UserOutputSerializer,
)


class SignupApi(APIView):
    """The account is made at once, with ``email_verified: false``; a job emails a link to verify the address."""

    summaries = {"post": "Sign up"}
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "auth"

    @extend_schema(
        request=SignupInputSerializer,
        responses={201: UserOutputSerializer, **error_responses(400, 429)},
    )
    def post(self, request: Request) -> Response:
        data = validated_input(SignupInputSerializer, request)
        user = services.user_create(**data)
        return Response(UserOutputSerializer(user).data, status=status.HTTP_201_CREATED)


class TokenApi(APIView):
    """Sign in: each call makes a new token (one per device), valid until revoked or idle too long."""

    summaries = {"post": "Sign in: get a token for this device"}
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "auth"

    @extend_schema(request=TokenInputSerializer, responses={200: TokenOutputSerializer, **error_responses(400, 429)})
    def post(self, request: Request) -> Response:
        data = validated_input(TokenInputSerializer, request)
        token, key = services.token_for_credentials(
            request=request, **data, label=request.headers.get("User-Agent", "")
        )
        return Response(TokenOutputSerializer({"token": key, "id": token.pk, "expiry": token.expiry}).data)


class LogoutApi(APIView):
    """Revoke the token this request was made with. Only a token request has one to revoke."""

    summaries = {"post": "Sign out this token"}
    authentication_classes = [TokenAuthentication]
    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={204: None, **error_responses(401)})
    def post(self, request: Request) -> Response:
        services.api_token_revoke(user=request.user, token_id=request.auth.pk)
        return Response(status=status.HTTP_204_NO_CONTENT)


class LogoutAllApi(APIView):
    """Revoke every token of the caller: every device signs in again."""

    summaries = {"post": "Sign out every device"}
    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={204: None, **error_responses(401)})
    def post(self, request: Request) -> Response:
        services.api_tokens_revoke_all(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ApiTokensApi(generics.GenericAPIView):
    """The caller's tokens that still work, newest first: never a key or a digest."""

    summaries = {"get": "List my signed-in devices (tokens)"}
    permission_classes = [IsAuthenticated]
    serializer_class = ApiTokenOutputSerializer
    pagination_class = QuerysetOrderCursorPagination

    def get_queryset(self) -> QuerySet[ApiToken]:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no user, only the model is read
            return ApiToken.objects.none()
        return selectors.api_tokens_of(user=self.request.user)

    @extend_schema(responses={200: ApiTokenOutputSerializer(many=True), **error_responses(400, 401)})
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(ApiTokenOutputSerializer(page, many=True).data)


class ApiTokenApi(APIView):
    summaries = {"delete": "Revoke one of my tokens"}
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={204: None, **error_responses(401, 404)})
    def delete(self, request: Request, pk: str) -> Response:
        services.api_token_revoke(user=request.user, token_id=int(pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeApi(APIView):
    summaries = {"get": "Read my profile", "patch": "Update my profile"}
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: UserOutputSerializer, **error_responses(401)})
    def get(self, request: Request) -> Response:
        # The user as this request's sign-in check read it: with a token, from the query cache
        # (selectors.user_for_authentication), dropped on every save of the user.
        return Response(UserOutputSerializer(request.user).data)

    @extend_schema(
        request=ProfileUpdateInputSerializer,
        responses={200: UserOutputSerializer, **error_responses(400, 401)},
    )
    def patch(self, request: Request) -> Response:
        data = validated_input(ProfileUpdateInputSerializer, request)
        user = services.user_update(user=request.user, **data)
        return Response(UserOutputSerializer(user).data)


class PasswordResetApi(APIView):
    """Always 202, whether or not the email has an account: the answer reveals nothing. A 429 past
    AUTH_THROTTLE_RATE for the client IP, or MAIL_TO_ADDRESS_RATE for the email."""

    summaries = {"post": "Email a password reset link"}
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "auth"

    @extend_schema(
        request=PasswordResetRequestInputSerializer,
        responses={202: DetailOutputSerializer, **error_responses(400, 429)},
    )
    def post(self, request: Request) -> Response:
        data = validated_input(PasswordResetRequestInputSerializer, request)
        services.password_reset_request(email=data["email"])
        return Response(
            {"detail": "If an account uses this email, a reset link is on its way."}, status=status.HTTP_202_ACCEPTED
        )


class PasswordResetConfirmApi(APIView):
    """``uid`` and ``token`` are the last two parts of the emailed link (/password-reset/<uid>/<token>/)."""

    summaries = {"post": "Set a new password from a reset link"}
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "auth"

    @extend_schema(
        request=PasswordResetConfirmInputSerializer,
        responses={200: DetailOutputSerializer, **error_responses(400, 429)},
    )
    def post(self, request: Request) -> Response:
        data = validated_input(PasswordResetConfirmInputSerializer, request)
        services.password_reset_confirm(**data)
        return Response({"detail": "Password changed."})


class EmailVerifyApi(APIView):
    """``token`` is the last part of the emailed link; a link works once."""

    summaries = {"post": "Verify an email from its link"}
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "auth"

    @extend_schema(
        request=EmailVerifyInputSerializer, responses={200: UserOutputSerializer, **error_responses(400, 429)}
    )
    def post(self, request: Request) -> Response:
        data = validated_input(EmailVerifyInputSerializer, request)
        user = services.email_verify(**data)
        return Response(UserOutputSerializer(user).data)


class EmailVerificationResendApi(APIView):
    """Always 202, whether or not an unverified account uses the email. A 429 past AUTH_THROTTLE_RATE
    for the client IP, or MAIL_TO_ADDRESS_RATE for the email."""

    summaries = {"post": "Email the verification link again"}
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "auth"

    @extend_schema(
        request=EmailVerificationResendInputSerializer,
        responses={202: DetailOutputSerializer, **error_responses(400, 429)},
    )
    def post(self, request: Request) -> Response:
        data = validated_input(EmailVerificationResendInputSerializer, request)
        services.email_verification_resend(email=data["email"])
        return Response(
            {"detail": "If an unverified account uses this email, a new link is on its way."},
            status=status.HTTP_202_ACCEPTED,
        )
