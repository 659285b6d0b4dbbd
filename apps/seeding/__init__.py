"""Made-up data, in one place: `manage.py seed_demo` (a catalog, two accounts and a few orders to
try the kit with) and `manage.py seed_scale` (users, products and orders at the size the kit
claims to serve, for benchmarks and query plans). It sits on top of the apps' layers, so it may
use every app's services; no app imports it."""
