"""/ops/doctor.json: the verdict, for staff, as JSON (the ops page, /ops/, shows it too)."""

from __future__ import annotations

from rest_framework.permissions import IsAdminUser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from project.ops.doctor.verdict import diagnose


class DoctorView(APIView):
    permission_classes = [IsAdminUser]
    schema = None  # operations, not API v1

    def get(self, request: Request) -> Response:
        return Response(diagnose().as_dict(), headers={"Cache-Control": "no-store"})
