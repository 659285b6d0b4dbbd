"""What of users is cached. Read by project/caching/declarations.py; docs/caching.md explains the caches."""

# No queryset of either is cached (ops: a full user row carries the password hash). The profiles are
# what makes cacheops invalidate on their writes: the sign-in check of every API request
# (selectors.api_tokens_with_key, apps/users/authentication.py) is cached with apps/core/query_cache.py,
# and every save or delete of a token or a user drops it at once.
QUERY_CACHE = {
    "users.user": {"ops": (), "timeout": 5 * 60},
    "users.apitoken": {"ops": (), "timeout": 5 * 60},
}
