from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from apps.core.api import validated_input
from apps.core.schema import error_responses
from apps.users import selectors, services
from apps.users.serializers import (
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
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "auth"

    @extend_schema(request=TokenInputSerializer, responses={200: TokenOutputSerializer, **error_responses(400, 429)})
    def post(self, request: Request) -> Response:
        data = validated_input(TokenInputSerializer, request)
        token = services.token_for_credentials(request=request, **data)
        return Response(TokenOutputSerializer({"token": token.key}).data)


class MeApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: UserOutputSerializer, **error_responses(401)})
    def get(self, request: Request) -> Response:
        return Response(UserOutputSerializer(selectors.user_profile(user_id=request.user.pk)).data)

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
