"""The Kubernetes manifests (config/k8s/) match the Kubernetes schemas and wire what the issue asks."""

import subprocess
from pathlib import Path

import yaml
from django.conf import settings

from apps.core.jobs import HEAVY_QUEUE, INTERACTIVE_QUEUE

K8S_DIR = Path(settings.BASE_DIR) / "config" / "k8s"


def _k8s_check(*files: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(Path(settings.BASE_DIR) / "scripts" / "k8s-check"), *files], capture_output=True, text=True, timeout=120
    )


def _resources() -> dict[tuple[str, str], dict]:
    resources = {}
    for path in sorted(K8S_DIR.glob("*.yaml")):
        for document in yaml.safe_load_all(path.read_text()):
            resources[(document["kind"], document["metadata"]["name"])] = document
    return resources


def test_every_manifest_passes_strict_schema_validation():
    result = _k8s_check()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "all manifests valid" in result.stdout


def test_a_misspelt_field_fails_the_check(tmp_path):
    manifest = tmp_path / "typo.yaml"
    manifest.write_text((K8S_DIR / "scheduler.yaml").read_text().replace("replicas: 1", "replica: 1"))

    result = _k8s_check(str(manifest))

    assert result.returncode != 0
    assert "'replica' was unexpected" in result.stdout + result.stderr


def test_the_web_tier_scales_on_cpu_from_2_to_10_and_probes_readyz_and_healthz():
    resources = _resources()
    hpa = resources[("HorizontalPodAutoscaler", "headroom-web")]["spec"]
    container = resources[("Deployment", "headroom-web")]["spec"]["template"]["spec"]["containers"][0]

    assert (hpa["minReplicas"], hpa["maxReplicas"]) == (2, 10)
    assert hpa["metrics"][0]["resource"]["target"]["averageUtilization"] == 70
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert {"requests", "limits"} <= set(container["resources"])


def test_worker_scheduler_and_migrate_run_the_same_image_with_their_own_command():
    resources = _resources()
    containers = {
        name: resources[(kind, name)]["spec"]["template"]["spec"]["containers"][0]
        for kind, name in [
            ("Deployment", "headroom-worker-interactive"),
            ("Deployment", "headroom-worker-heavy"),
            ("Deployment", "headroom-scheduler"),
            ("Job", "headroom-migrate"),
        ]
    }

    for pool in ("headroom-worker-interactive", "headroom-worker-heavy"):
        assert containers[pool]["command"][:3] == ["python", "manage.py", "rundramatiq"]
    assert containers["headroom-scheduler"]["command"] == ["python", "manage.py", "crontab", "--no-heartbeat"]
    assert containers["headroom-migrate"]["command"] == ["python", "manage.py", "migrate", "--no-input"]
    assert resources[("Deployment", "headroom-scheduler")]["spec"]["replicas"] == 1
    assert {container["image"] for container in containers.values()} == {"headroom:latest"}
    assert ("HorizontalPodAutoscaler", "headroom-worker-interactive") in resources
    assert ("HorizontalPodAutoscaler", "headroom-worker-heavy") in resources


def test_each_class_of_queue_has_its_worker_pool_scaled_on_the_length_of_its_queue():
    resources = _resources()
    scaled_objects = {
        document["metadata"]["name"]: document["spec"]
        for document in yaml.safe_load_all((K8S_DIR / "keda" / "workers.yaml").read_text())
    }

    for queue, pool in [(INTERACTIVE_QUEUE, "headroom-worker-interactive"), (HEAVY_QUEUE, "headroom-worker-heavy")]:
        command = resources[("Deployment", pool)]["spec"]["template"]["spec"]["containers"][0]["command"]
        assert command[command.index("--queues") + 1 :] == [queue]
        scaling = scaled_objects[pool]
        assert scaling["scaleTargetRef"]["name"] == pool
        # It takes over the CPU HPA of worker.yaml rather than fighting it.
        assert scaling["advanced"]["horizontalPodAutoscalerConfig"]["name"] == pool
        (redis_trigger,) = [trigger for trigger in scaling["triggers"] if trigger["type"] == "redis"]
        assert redis_trigger["metadata"]["listName"] == f"dramatiq:{queue}"
