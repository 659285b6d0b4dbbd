"""The Kubernetes manifests (config/k8s/) match the Kubernetes schemas and wire what the issue asks."""

import subprocess
from pathlib import Path

import yaml
from django.conf import settings

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
            ("Deployment", "headroom-worker"),
            ("Deployment", "headroom-scheduler"),
            ("Job", "headroom-migrate"),
        ]
    }

    assert containers["headroom-worker"]["command"][:3] == ["python", "manage.py", "rundramatiq"]
    assert containers["headroom-scheduler"]["command"] == ["python", "manage.py", "crontab", "--no-heartbeat"]
    assert containers["headroom-migrate"]["command"] == ["python", "manage.py", "migrate", "--no-input"]
    assert resources[("Deployment", "headroom-scheduler")]["spec"]["replicas"] == 1
    assert {container["image"] for container in containers.values()} == {"headroom:latest"}
    assert ("HorizontalPodAutoscaler", "headroom-worker") in resources
