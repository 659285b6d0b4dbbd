"""Writes to the catalog, and the stock that orders reserve and release.

Every write here invalidates the caches of what it changed. ``Model.save()``/``delete()`` do it
through their signals. Writes that send no signal (``QuerySet.update()``, ``bulk_create()``,
raw SQL) must go through cacheops' ``invalidated_update()`` or call ``invalidate_model()``
or ``invalidate_obj()``, as the bulk functions below do; see docs/caching.md.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any

from cacheops import invalidate_model, invalidate_obj
from django.conf import settings
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import F, ProtectedError
from django.utils import timezone

from apps.core.errors import DomainError
from apps.core.jobs import send_on_commit
from apps.core.services import rows_with_files_delete
from apps.products import csv_import, selectors
from apps.products.csv_import import CsvRow, ProductRow
from apps.products.models import MAX_STOCK, Category, Product, ProductImport, StockAdjustment
from apps.users.models import User

REASON_MAX_LENGTH = StockAdjustment._meta.get_field("reason").max_length

# Rows with errors kept on the import for the status endpoint; the rest are only counted.
MAX_IMPORT_ERRORS_KEPT = 1000
# Rows written per transaction; a killed import resumes after the last committed batch. Settings
# may set PRODUCT_IMPORT_BATCH_SIZE (the tests make it small, to kill an import between batches).
IMPORT_BATCH_SIZE = 500


def category_create(*, name: str, slug: str) -> Category:
    return Category.objects.create(name=name, slug=slug)


def category_update(*, category: Category, **changes: Any) -> Category:
    with transaction.atomic():
        current = Category.objects.nocache().select_for_update().get(pk=category.pk)
        return _save_changes(current, changes)


def category_delete(*, category: Category) -> None:
    try:
        category.delete()
    except ProtectedError as error:
        raise DomainError(
            code="category_in_use",
            message=f"Category '{category.name}' still has products; move or delete them first.",
            status=409,
        ) from error


def product_create(**fields: Any) -> Product:
    return Product.objects.create(**fields)


def product_update(*, product: Product, expected_versions: Collection[str] | None = None, **changes: Any) -> Product:
    """Write the fields of ``changes`` that differ from the product's row, and only those.

    The row is locked and read again first: ``product`` may be stale, and writing it back whole
    would undo the orders placed since it was read. ``expected_versions`` are the versions the
    caller read (the API's If-Match): if given and none is current, nothing is written (412). A new
    ``stock`` overwrites whatever orders took meanwhile, so it needs them (428 without); staff
    otherwise change stock with ``stock_adjust``.
    """
    with transaction.atomic():
        current = (
            Product.objects.nocache().select_for_update(of=("self",)).select_related("category").get(pk=product.pk)
        )
        if expected_versions is not None and selectors.product_version(product=current) not in expected_versions:
            raise DomainError(
                code="precondition_failed",
                message=f"Product {current.pk} has changed since it was read; read it again and retry with its new ETag.",
                status=412,
            )
        if expected_versions is None and "stock" in changes and changes["stock"] != current.stock:
            message = (
                "Setting stock needs the If-Match header with the product's ETag, so that it cannot undo "
                "orders placed since you read it; or add or remove units with POST .../stock-adjustments/."
            )
            raise DomainError(code="precondition_required", message=message, fields={"stock": [message]}, status=428)
        return _save_changes(current, changes)


def product_delete(*, product: Product) -> None:
    try:
        product.delete()
    except ProtectedError as error:
        raise DomainError(
            code="product_in_use",
            message=f"Product '{product.name}' has been ordered; deactivate it instead of deleting it.",
            status=409,
        ) from error


def products_set_active(*, product_ids: list[int], is_active: bool) -> int:
    """Put products on or off sale in one statement; returns how many rows changed."""
    return Product.objects.filter(pk__in=product_ids).invalidated_update(is_active=is_active)


def products_bulk_create(*, products: list[Product], batch_size: int = 1000) -> list[Product]:
    """Insert many products at once (imports, seeding); bulk_create sends no signal."""
    with transaction.atomic():
        created = Product.objects.bulk_create(products, batch_size=batch_size)
        invalidate_model(Product)  # queued by cacheops until the commit
    return created


def products_upsert(*, rows: list[ProductRow]) -> tuple[int, int]:
    """Create the products whose slug is new and update the others, in one transaction; returns
    (created, updated). Bulk writes send no signal, so the product caches are invalidated here."""
    now = timezone.now()
    with transaction.atomic():
        # Locked, in id order as stock_reserve locks them: bulk_update writes every listed column,
        # stock included, and an order taking stock meanwhile must not be overwritten.
        existing = {
            product.slug: product
            for product in Product.objects.nocache()
            .select_for_update()
            .filter(slug__in=[row.slug for row in rows])
            .order_by("pk")
        }
        new: list[Product] = []
        changed: list[Product] = []
        for row in rows:
            product = existing.get(row.slug)
            if product is None:
                new.append(
                    Product(
                        slug=row.slug,
                        name=row.name,
                        category_id=row.category_id,
                        price=row.price,
                        stock=row.stock or 0,
                        description=row.description or "",
                        is_active=True if row.is_active is None else row.is_active,
                    )
                )
                continue
            product.name, product.category_id, product.price, product.updated_at = (
                row.name,
                row.category_id,
                row.price,
                now,
            )
            for field in ("stock", "description", "is_active"):
                if getattr(row, field) is not None:
                    setattr(product, field, getattr(row, field))
            changed.append(product)
        Product.objects.bulk_create(new, batch_size=1000)
        Product.objects.bulk_update(
            changed, ["name", "category", "price", "stock", "description", "is_active", "updated_at"], batch_size=1000
        )
        invalidate_model(Product)  # queued by cacheops until the commit
    return len(new), len(changed)


def stock_reserve(*, quantities: Mapping[int, int]) -> dict[int, Product]:
    """Take ``quantities`` (product id → count) out of stock, or raise and take nothing.

    Runs inside the caller's transaction. Rows are locked in id order, so two orders that
    share products queue behind each other instead of deadlocking.
    """
    _require_transaction()
    products = {
        product.pk: product for product in Product.objects.select_for_update().filter(pk__in=quantities).order_by("pk")
    }
    for product_id in sorted(quantities):
        product = products.get(product_id)
        if product is None or not product.is_active:
            raise DomainError(
                code="unknown_product",
                message=f"Product {product_id} does not exist or is not for sale.",
                fields={"items": [f"Product {product_id} does not exist or is not for sale."]},
            )
        if product.stock < quantities[product_id]:
            raise DomainError(
                code="out_of_stock",
                message=f"Only {product.stock} of {product.name} left in stock.",
                fields={"items": [f"Product {product_id}: only {product.stock} left."]},
                status=409,
            )
    _write_stock(products=list(products.values()), changes={pid: -quantity for pid, quantity in quantities.items()})
    return products


def stock_release(*, quantities: Mapping[int, int]) -> None:
    """Put ``quantities`` back into stock, as when an order is cancelled."""
    _require_transaction()
    products = list(Product.objects.select_for_update().filter(pk__in=quantities).order_by("pk"))
    _write_stock(products=products, changes=quantities)


def _write_stock(*, products: list[Product], changes: Mapping[int, int]) -> None:
    """Add ``changes[pk]`` to the stock of ``products`` (rows locked by the caller) in one UPDATE.

    One save() per product would cost two queries each: cacheops re-reads every saved row to
    invalidate on its old values. The rows are locked and already read, so this invalidates both
    versions of each product itself, exactly as save() would: only the products touched.
    """
    now = timezone.now()
    for product in products:
        invalidate_obj(product)  # the old row (queued by cacheops until the commit)
        product.stock += changes[product.pk]
        product.updated_at = now
    Product.objects.bulk_update(products, ["stock", "updated_at"])
    for product in products:
        invalidate_obj(product)


def _require_transaction() -> None:
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("stock changes must run inside the caller's transaction.atomic()")


def stock_adjust(*, product_id: int, delta: int, reason: str, user: User | None) -> StockAdjustment:
    """Add ``delta`` units (negative: remove them) to the product's stock and keep the change with
    its reason. Adds to the locked row, so it composes with orders instead of overwriting them."""
    reason = reason.strip()
    if not 0 < len(reason) <= REASON_MAX_LENGTH:
        message = f"Say why the stock changes, in at most {REASON_MAX_LENGTH} characters."
        raise DomainError(code="invalid", message=message, fields={"reason": [message]})
    if delta == 0:
        raise DomainError(code="invalid", message="Add or remove at least one unit.", fields={"delta": ["Not 0."]})
    with transaction.atomic():
        product = Product.objects.nocache().select_for_update().get(pk=product_id)
        if not 0 <= product.stock + delta <= MAX_STOCK:
            raise DomainError(
                code="stock_out_of_range",
                message=f"'{product.name}' has {product.stock} in stock; it cannot change by {delta:+d}.",
                fields={"delta": [f"Stock would be {product.stock + delta}."]},
                status=409,
            )
        _write_stock(products=[product], changes={product.pk: delta})
        return StockAdjustment.objects.create(
            product=product, delta=delta, reason=reason, user=user, stock_after=product.stock
        )


def _save_changes(instance: Category | Product, changes: Mapping[str, Any]) -> Any:
    """Save the fields of ``changes`` that differ from ``instance`` (a locked, fresh row), and only
    those: a column nobody meant to change is never written back. save() invalidates the caches."""
    changed = []
    for name, value in changes.items():
        field = instance._meta.get_field(name)
        current = getattr(instance, field.attname)
        if current != (value.pk if field.is_relation and value is not None else value):
            setattr(instance, name, value)
            changed.append(name)
    if changed:
        auto_now = [field.name for field in instance._meta.concrete_fields if getattr(field, "auto_now", False)]
        instance.save(update_fields=[*changed, *auto_now])
    return instance


def product_import_request(*, user: User, upload: UploadedFile) -> tuple[ProductImport, bool]:
    """Store an uploaded product CSV and send the job that imports it; returns (import, is_new).

    The same file again (same SHA-256) returns the first import and sends nothing. A file that
    is not a CSV with the right header is a DomainError (400); bad rows are reported per row.
    """
    if upload.size > settings.PRODUCT_IMPORT_MAX_BYTES:
        raise _invalid_file(f"The file is larger than {settings.PRODUCT_IMPORT_MAX_BYTES} bytes.")
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    sha256 = digest.hexdigest()
    if existing := ProductImport.objects.filter(sha256=sha256).first():
        return existing, False
    upload.seek(0)
    if problems := csv_import.header_errors(upload.read(csv_import.HEADER_READ_BYTES)):
        raise _invalid_file(*problems)
    upload.seek(0)
    name = default_storage.save(f"imports/products-{sha256}.csv", upload)
    try:
        with transaction.atomic():
            product_import = ProductImport.objects.create(
                sha256=sha256, uploaded_by=user, file=name, original_name=(upload.name or "")[:255]
            )
    except IntegrityError:  # the same file, uploaded at the same moment, won
        default_storage.delete(name)
        return ProductImport.objects.get(sha256=sha256), False
    send_on_commit("run_product_import", import_id=product_import.pk)
    return product_import, True


def product_imports_expire(*, older_than: datetime) -> int:
    """Delete finished (done or failed) imports uploaded before ``older_than``, with their uploaded
    files; returns how many. The products they made stay. Unfinished ones are left to their job."""
    return rows_with_files_delete(
        rows=ProductImport.objects.filter(
            created_at__lt=older_than, status__in=[ProductImport.Status.DONE, ProductImport.Status.FAILED]
        )
    )


def product_import_run(*, import_id: int) -> None:
    """Import the file's rows in batches of IMPORT_BATCH_SIZE rows, each committed with the
    import's progress: a job killed midway is redelivered and resumes after the last committed
    batch, so no row is imported twice. A finished import does nothing."""
    product_import = ProductImport.objects.filter(pk=import_id).first()
    if product_import is None or product_import.status == ProductImport.Status.DONE:
        return
    ProductImport.objects.filter(pk=import_id).update(status=ProductImport.Status.RUNNING)
    categories = dict(Category.objects.nocache().values_list("slug", "id"))
    size = max(default_storage.size(product_import.file), 1)
    batch_size = getattr(settings, "PRODUCT_IMPORT_BATCH_SIZE", IMPORT_BATCH_SIZE)
    try:
        with default_storage.open(product_import.file, "rb") as binary:
            batch: list[CsvRow] = []
            for row in csv_import.read_rows(binary, categories=categories, skip=product_import.rows_processed):
                batch.append(row)
                if len(batch) == batch_size:
                    _import_batch(product_import, batch, progress=min(99, 100 * binary.tell() // size))
                    batch = []
            if batch:
                _import_batch(product_import, batch, progress=99)
    except Exception:
        ProductImport.objects.filter(pk=import_id).update(status=ProductImport.Status.FAILED)
        raise  # retried; an import whose last retry fails stays "failed", its committed batches kept
    ProductImport.objects.filter(pk=import_id).update(
        status=ProductImport.Status.DONE, progress=100, finished_at=timezone.now()
    )


def _import_batch(product_import: ProductImport, batch: list[CsvRow], *, progress: int) -> None:
    valid: dict[str, ProductRow] = {}
    errors = []
    for row in batch:
        if row.product is not None and row.product.slug in valid:
            row = CsvRow(line=row.line, product=None, errors={"slug": ["The same slug is on an earlier line."]})
        if row.product is None:
            errors.append({"line": row.line, "errors": row.errors})
        else:
            valid[row.product.slug] = row.product
    with transaction.atomic():
        # The import's row is the lock: a second run of the same import (a redelivery while the
        # first still runs) finds rows_processed moved on, and stops before writing anything.
        current = ProductImport.objects.select_for_update().get(pk=product_import.pk)
        if current.rows_processed != product_import.rows_processed:
            raise RuntimeError(f"{product_import} is being imported by another job")
        created, updated = products_upsert(rows=list(valid.values())) if valid else (0, 0)
        kept = current.errors + errors[: max(0, MAX_IMPORT_ERRORS_KEPT - len(current.errors))]
        ProductImport.objects.filter(pk=product_import.pk).update(
            rows_processed=F("rows_processed") + len(batch),
            progress=progress,
            created=F("created") + created,
            updated=F("updated") + updated,
            error_count=F("error_count") + len(errors),
            errors=kept,
        )
    product_import.rows_processed += len(batch)


def _invalid_file(*problems: str) -> DomainError:
    return DomainError(code="invalid_csv", message=" ".join(problems), fields={"file": list(problems)})
