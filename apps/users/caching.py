"""What of users is cached. Read by project/caching/declarations.py; docs/caching.md explains the caches."""

# Manual only (.cache() on narrow querysets; a full user row carries the password hash): the sign-in
# check of every API request, selectors.api_tokens_with_key and selectors.user_for_authentication
# (apps/users/authentication.py). Every save or delete of a user or a token drops its entries at once.
QUERY_CACHE = {
    "users.user": {"ops": (), "timeout": 5 * 60},
    "users.apitoken": {"ops": (), "timeout": 5 * 60},
}
