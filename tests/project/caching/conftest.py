from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.wsgi_calls import counting_django_runs


@pytest.fixture
def django_runs() -> Iterator[list[Any]]:
    """Each request Django's handler started during the test (one answered before Django starts none)."""
    with counting_django_runs() as started:
        yield started
