"""The demo accounts `manage.py seed_demo` creates. Their passwords are published (README,
seed_demo's output), so production refuses to serve while an active one still uses it (checks.py)."""

DEMO_EMAIL = "demo@example.com"
ADMIN_EMAIL = "admin@example.com"
# Email -> its published password.
DEMO_ACCOUNTS: dict[str, str] = {DEMO_EMAIL: "headroom-demo-pass", ADMIN_EMAIL: "headroom-admin-pass"}
