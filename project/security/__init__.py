"""Defences every request passes through: the client's IP behind proxies, login lockouts that fail
open, private caching of signed-in responses, and secrets kept out of logs (docs/security.md)."""
