import pytest

from project.ops import minute_buckets
from tests.redis_keys import forget_everything_cached


@pytest.fixture(autouse=True)
def _no_minute_counts_of_earlier_tests(_cache_redis):
    """The ops page's counts of an earlier test, still pending in this process, never reach this one's."""
    minute_buckets.flush()
    forget_everything_cached(_cache_redis)
