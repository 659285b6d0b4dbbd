"""Browse-heavy shop traffic for locust: `scripts/loadtest` runs it headless (docs/performance.md).

Each simulated customer signs in once (a token, as an API client would), then mostly browses:
the catalog anonymously, the way visitors who are not yet buying see it (so nginx's and the
app's caches serve what they would in production), and their own orders with their token.
Now and then they order, and now and then they sign in again. Out of every 99 tasks, 93 read
(a catalog page counts once, however many "next" pages follow) and 6 write (5 orders, 1 sign-in),
plus the sign-in each customer starts with.

LOADTEST_ACCOUNTS="first-last": ids of the `seed_scale` accounts (scale-<id>@example.com) to sign
in as; without it every customer is the `seed_demo` account.
"""

from __future__ import annotations

import os
import random
from urllib.parse import urlsplit

from locust import HttpUser, between, task

SCALE_PASSWORD = "headroom-scale-pass"  # apps/seeding/management/commands/seed_scale.py
DEMO_ACCOUNT = ("demo@example.com", "headroom-demo-pass")  # apps/seeding/management/commands/seed_demo.py
ORDERINGS = ["price", "-price", "created_at", "-created_at", "name"]


def pick_account() -> tuple[str, str]:
    accounts = os.environ.get("LOADTEST_ACCOUNTS", "")
    if not accounts:
        return DEMO_ACCOUNT
    first, last = (int(n) for n in accounts.split("-"))
    return f"scale-{random.randint(first, last)}@example.com", SCALE_PASSWORD


class Customer(HttpUser):
    # Think time between two requests of one customer; LOADTEST_WAIT="min,max" in seconds.
    wait_time = between(*(float(s) for s in os.environ.get("LOADTEST_WAIT", "0.1,0.5").split(",")))

    def on_start(self) -> None:
        self.token = ""
        self.sign_in()
        products = self.client.get("/api/v1/products/?page_size=100", name="/api/v1/products/?page_size=100").json()
        self.product_ids = [p["id"] for p in products["results"] if p.get("stock", 1) > 0] or [1]
        categories = self.client.get("/api/v1/categories/", name="/api/v1/categories/").json()
        self.category_slugs = [c["slug"] for c in categories["results"]]

    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Token {self.token}"}

    @task(1)
    def sign_in(self) -> None:
        if self.token:
            # Sign out first, as a client does: each sign-in makes a token, and an account keeps
            # at most API_TOKENS_PER_USER (the oldest go), which customers sharing it would exhaust.
            self.client.post("/api/v1/auth/logout/", headers=self.auth(), name="sign out")
        email, password = pick_account()
        with self.client.post(
            "/api/v1/auth/token/", json={"email": email, "password": password}, name="sign in", catch_response=True
        ) as response:
            if response.status_code == 200:
                self.token = response.json()["token"]
            else:
                response.failure(f"sign in as {email}: HTTP {response.status_code}")

    @task(25)
    def browse_catalog(self) -> None:
        """The first page, then "next" for up to two more, as a visitor paging through does."""
        page = self.client.get("/api/v1/products/", name="/api/v1/products/").json()
        for _ in range(random.randint(0, 2)):
            if not page.get("next"):
                break
            parts = urlsplit(page["next"])
            page = self.client.get(f"{parts.path}?{parts.query}", name="/api/v1/products/ (next page)").json()

    @task(15)
    def browse_category(self) -> None:
        if not self.category_slugs:
            return
        slug = random.choice(self.category_slugs)
        ordering = random.choice(ORDERINGS)
        self.client.get(
            f"/api/v1/products/?category={slug}&ordering={ordering}", name="/api/v1/products/?category=&ordering="
        )

    @task(30)
    def view_product(self) -> None:
        self.client.get(f"/api/v1/products/{random.choice(self.product_ids)}/", name="/api/v1/products/{id}/")

    @task(10)
    def list_categories(self) -> None:
        self.client.get("/api/v1/categories/", name="/api/v1/categories/")

    @task(13)
    def my_orders(self) -> None:
        self.client.get("/api/v1/orders/", headers=self.auth(), name="/api/v1/orders/ (own)")

    @task(5)
    def place_order(self) -> None:
        items = [{"product": random.choice(self.product_ids), "quantity": 1}]
        with self.client.post(
            "/api/v1/orders/", json={"items": items}, headers=self.auth(), name="place order", catch_response=True
        ) as response:
            # 409 is the shop's answer when stock has run out: correct, not an error.
            if response.status_code in (201, 409):
                response.success()
            else:
                response.failure(f"HTTP {response.status_code}")
