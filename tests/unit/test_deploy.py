"""The deployment artefacts (Dockerfile, deploy/), checked without a Docker engine.

- Both compose files against the compose-spec JSON schema (the copy the `check-jsonschema`
  package vendors; missing, it fails in CI and skips elsewhere), then what issue 6 asks of the
  production stack: three RabbitMQ nodes on TLS only, definitions from `cme-broker topology
  export`, PostgreSQL, two router replicas, the gateway behind its TLS proxy, nothing as root.
- Every Kubernetes object against the Kubernetes OpenAPI schemas (`kubernetes-validate`,
  strict: unknown fields fail). It has no schema for the operator's `RabbitmqCluster`, which is
  checked for its shape and the limits of the operator's CRD (2,000 characters of
  additionalConfig, plugin names) instead.
- The Dockerfile, rabbitmq.conf (against the settings), nginx.conf, and the dev CA's
  certificates in a TLS handshake (in memory).
"""

import importlib.resources
import importlib.util
import json
import os
import re
import ssl
import stat
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiormq
import pytest
import yaml
from aiormq.auth import AuthMechanism, ExternalAuth
from cryptography import x509
from cryptography.x509.oid import NameOID
from kubernetes_validate import utils as k8s  # type: ignore[import-untyped,unused-ignore]
from pydantic import SecretStr

from broker.directory.keystore import FileKeystore
from broker.settings import Environment, Settings
from broker.transport.definitions import GATEWAY_USER, ROUTER_USER
from broker.transport.topology import routing_word
from tests.services import in_ci

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"
K8S_VERSIONS = ("1.29.0", "1.37.0")
"""The oldest Kubernetes release still common in managed services, and the newest known."""
BROKER_UID = 10001
HEADROOM = 1.25
"""RabbitMQ's and the proxy's size limits are at least this multiple of the envelope limit, so an
oversized envelope reaches the router or gateway, which refuse it with a proper reason."""
TLS_PORTS = {5671, 15671, 15691, 8443}
PLAIN_PORTS = {5672, 15672, 15692, 1883, 61613}
"""RabbitMQ's plain-text AMQP, management, metrics, MQTT and STOMP ports."""


# -- loading ----------------------------------------------------------------------------------


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def compose() -> dict[str, Any]:
    document: dict[str, Any] = load_yaml(DEPLOY / "compose.yml")
    return document


def services() -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = compose()["services"]
    return found


def k8s_documents() -> list[tuple[str, dict[str, Any]]]:
    """(file name, object) for every object of every manifest kustomization.yaml lists."""
    kustomization = load_yaml(K8S / "kustomization.yaml")
    return [
        (name, document)
        for name in kustomization["resources"]
        for document in yaml.safe_load_all((K8S / name).read_text())
        if document
    ]


def k8s_object(kind: str, name: str) -> dict[str, Any]:
    (found,) = [
        d for _, d in k8s_documents() if d["kind"] == kind and d["metadata"]["name"] == name
    ]
    return found


def workloads() -> Iterator[dict[str, Any]]:
    """The pod templates of every Deployment and Job."""
    for _, document in k8s_documents():
        if document["kind"] in ("Deployment", "Job"):
            yield document


def conf_pairs(text: str) -> list[tuple[str, str]]:
    """`key = value` lines of a rabbitmq.conf (sysctl format), comments and blanks dropped."""
    pairs = []
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if line:
            key, sep, value = line.partition("=")
            assert sep, f"not a key = value line: {raw!r}"
            pairs.append((key.strip(), value.strip()))
    return pairs


def rabbitmq_conf() -> dict[str, str]:
    pairs = conf_pairs((DEPLOY / "rabbitmq" / "rabbitmq.conf").read_text())
    keys = [k for k, _ in pairs]
    assert len(keys) == len(set(keys)), "a key set twice: the later one silently wins"
    return dict(pairs)


def additional_config() -> dict[str, str]:
    text = k8s_object("RabbitmqCluster", "cme-rabbitmq")["spec"]["rabbitmq"]["additionalConfig"]
    return dict(conf_pairs(text))


def settings_default_envelope_limit() -> int:
    limit = Settings.model_fields["max_envelope_bytes"].default
    assert isinstance(limit, int)
    return limit


def command_option(command: list[str], option: str) -> str:
    return command[command.index(option) + 1]


def mounts(service: dict[str, Any]) -> dict[str, str]:
    """target -> source of a compose service's volumes (short syntax)."""
    found = {}
    for volume in service.get("volumes", []):
        source, target, *_ = volume.split(":")
        found[target] = source
    return found


# -- compose: the schema ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def compose_schema() -> dict[str, Any]:
    """The compose-spec JSON schema, as vendored by `check-jsonschema` (a dev dependency)."""
    try:
        files = importlib.resources.files("check_jsonschema.builtin_schemas.vendor")
        schema: dict[str, Any] = json.loads((files / "compose-spec.json").read_text())
    except (ModuleNotFoundError, FileNotFoundError) as exc:
        message = f"the compose-spec schema is not available (pip install check-jsonschema): {exc}"
        if in_ci():
            pytest.fail(f"{message} (CI is set, so this is a failure)", pytrace=False)
        pytest.skip(message)
    assert schema["title"] == "Compose Specification"
    return schema


def schema_errors(schema: dict[str, Any], document: Any) -> list[str]:
    import jsonschema  # type: ignore[import-untyped,unused-ignore]

    validator = jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in validator.iter_errors(document)
    ]


@pytest.mark.parametrize("name", ["compose.yml", "compose.dev.yml"])
def test_compose_files_match_the_compose_spec(compose_schema: dict[str, Any], name: str) -> None:
    assert schema_errors(compose_schema, load_yaml(DEPLOY / name)) == []


def test_the_compose_schema_rejects_mistakes(compose_schema: dict[str, Any]) -> None:
    """The validation is live: a misspelt key or a wrong type fails it."""
    misspelt = compose()
    misspelt["services"]["router"]["deploy"]["replica"] = 2
    wrong_type = compose()
    wrong_type["services"]["router"]["depends_on"] = 5
    assert schema_errors(compose_schema, misspelt)
    assert schema_errors(compose_schema, wrong_type)


# -- compose: the stack -----------------------------------------------------------------------


def rabbitmq_nodes() -> dict[str, dict[str, Any]]:
    return {n: s for n, s in services().items() if s["image"].startswith("rabbitmq:")}


def test_three_rabbitmq_nodes_form_one_cluster() -> None:
    nodes = rabbitmq_nodes()
    assert len(nodes) == 3
    conf = rabbitmq_conf()
    assert conf["cluster_formation.peer_discovery_backend"] == "classic_config"
    listed = {v for k, v in conf.items() if k.startswith("cluster_formation.classic_config.nodes.")}
    assert listed == {f"rabbit@{s['hostname']}" for s in nodes.values()}
    for service in nodes.values():
        # One Erlang cookie for all three, from a file that is not committed.
        assert service["env_file"] == ["secrets/rabbitmq.env"]
        assert service["networks"]["backend"]["aliases"] == ["rabbitmq"]
        assert re.fullmatch(r"rabbitmq:3\.13\.([3-9]|\d\d)", service["image"]), service["image"]


def test_rabbitmq_nodes_load_the_configuration_tls_material_and_definitions() -> None:
    conf = rabbitmq_conf()
    definitions = Path(conf["load_definitions"])
    for name, service in rabbitmq_nodes().items():
        mounted = mounts(service)
        # Read after the image's conf.d/10-defaults.conf, so ours wins.
        assert mounted["/etc/rabbitmq/conf.d/90-cme.conf"] == "./rabbitmq/rabbitmq.conf", name
        assert mounted["/etc/rabbitmq/enabled_plugins"] == "./rabbitmq/enabled_plugins", name
        tls_dir = mounted["/etc/rabbitmq/tls"]
        assert tls_dir == "./secrets/rabbitmq", name
        for key in ("ssl_options.cacertfile", "ssl_options.certfile", "ssl_options.keyfile"):
            assert Path(conf[key]).parent == Path("/etc/rabbitmq/tls"), key
        assert mounted[str(definitions.parent)] == "definitions", name
        assert service["volumes"][-1].startswith(f"{name}-data:/var/lib/rabbitmq")
        dependency = service["depends_on"]["topology-export"]
        assert dependency == {"condition": "service_completed_successfully"}, name


def test_the_definitions_come_from_cme_broker_topology_export() -> None:
    """The export writes into the volume the nodes load `load_definitions` from, for the same
    virtual host and prefix the router and gateway use."""
    export = services()["topology-export"]
    command = export["command"]
    assert command[:2] == ["topology", "export"]
    out = Path(command_option(command, "--out"))
    loaded = Path(rabbitmq_conf()["load_definitions"])
    assert out.name == loaded.name
    assert mounts(export)[str(out.parent)] == "definitions"
    vhost = command_option(command, "--vhost")
    for name in ("router", "gateway", "topology-declare"):
        url = urlsplit(services()[name]["environment"]["CME_RABBITMQ_URL"])
        assert url.path == f"/{vhost}", name
    assert {s["environment"]["CME_TOPOLOGY_PREFIX"] for s in broker_services().values()} == {"cme"}


def published_ports(service: dict[str, Any]) -> set[int]:
    return {int(str(p).rsplit(":", 1)[-1].split("/")[0]) for p in service.get("ports", [])}


def test_only_tls_ports_are_published() -> None:
    published = {n: published_ports(s) for n, s in services().items() if s.get("ports")}
    assert published == {"rabbitmq-1": {5671, 15671}, "gateway": {8443}}
    assert all(ports <= TLS_PORTS for ports in published.values())
    management = [p for p in services()["rabbitmq-1"]["ports"] if p.endswith(":15671")]
    assert management == ["127.0.0.1:15671:15671"]  # the management UI: this host only
    text = (DEPLOY / "compose.yml").read_text()
    for port in PLAIN_PORTS:
        assert str(port) not in text, port


def broker_services() -> dict[str, dict[str, Any]]:
    """Services running the broker image (built from the repository's Dockerfile)."""
    return {n: s for n, s in services().items() if s.get("build", {}).get("dockerfile")}


def test_two_router_replicas_and_the_gateway() -> None:
    router, gateway = services()["router"], services()["gateway"]
    assert router["deploy"]["replicas"] == 2
    assert router["command"][:2] == ["serve", "--no-gateway"]
    assert "ports" not in router
    assert gateway["command"][:2] == ["serve", "--no-router"]
    assert gateway.get("deploy", {}).get("replicas", 1) == 1
    # The gateway only trusts X-Client-Cert from the proxy sharing its network namespace.
    assert command_option(gateway["command"], "--host") == "127.0.0.1"
    assert gateway["environment"]["CME_GATEWAY_TRUST_PROXY_CERT"] == "true"
    # ... and checks the forwarded certificate against the same CA as the proxy.
    client_ca = gateway["environment"]["CME_GATEWAY_CLIENT_CA"]
    proxy_tls = mounts(services()["gateway-proxy"])["/etc/nginx/tls"]
    assert mounts(gateway)[client_ca] == f"{proxy_tls}/ca.crt"
    proxy = services()["gateway-proxy"]
    assert proxy["network_mode"] == "service:gateway"
    assert "networks" not in proxy
    assert "ports" not in proxy
    assert mounts(proxy)["/etc/nginx/nginx.conf"] == "./proxy/nginx.conf"
    trusting = {
        n
        for n, s in services().items()
        if "CME_GATEWAY_TRUST_PROXY_CERT" in s.get("environment", {})
    }
    assert trusting == {"gateway"}


def test_postgres_backs_the_broker_services() -> None:
    postgres = services()["postgres"]
    assert postgres["image"].startswith("postgres:")
    assert postgres["healthcheck"]["test"][1] == "pg_isready"
    assert mounts(postgres)["/var/lib/postgresql/data"] == "postgres-data"
    assert postgres["env_file"] == ["secrets/postgres.env"]
    for name in ("topology-export", "router", "gateway"):
        assert services()[name]["depends_on"]["postgres"] == {"condition": "service_healthy"}, name
    for name in ("router", "gateway"):
        declared = services()[name]["depends_on"]["topology-declare"]
        assert declared == {"condition": "service_completed_successfully"}, name


def test_no_service_runs_as_root() -> None:
    for name, service in services().items():
        uid = int(str(service["user"]).split(":")[0])
        assert uid != 0, name
        assert service["cap_drop"] == ["ALL"], name
        assert "no-new-privileges:true" in service["security_opt"], name
        assert not service.get("privileged"), name
    for name, service in broker_services().items():
        assert service["user"] == f"{BROKER_UID}:{BROKER_UID}", name
        assert service["read_only"] is True, name
        assert service["env_file"] == ["secrets/cme.env"], name  # the secrets, not committed


def test_images_are_pinned() -> None:
    images = {s["image"] for s in services().values()}
    images |= {c["image"] for w in workloads() for c in w["spec"]["template"]["spec"]["containers"]}
    images.add(k8s_object("RabbitmqCluster", "cme-rabbitmq")["spec"]["image"])
    for image in images:
        name, _, tag = image.rpartition(":")
        assert name, image
        assert "/" not in tag, image
        assert tag not in ("", "latest"), image


def test_secrets_are_never_inline_in_compose() -> None:
    text = (DEPLOY / "compose.yml").read_text()
    for word in ("CME_PSEUDONYM_KEY:", "POSTGRES_PASSWORD:", "RABBITMQ_ERLANG_COOKIE:", "guest"):
        assert word not in text, word
    assert "secrets/" in (DEPLOY / ".gitignore").read_text().split()


# -- settings and AMQP URLs, in compose and Kubernetes ------------------------------------------


def environments() -> Iterator[tuple[str, dict[str, str]]]:
    """(where, environment) of every broker process in compose and Kubernetes."""
    for name, service in broker_services().items():
        yield f"compose {name}", service["environment"]
    settings = k8s_object("ConfigMap", "cme-settings")["data"]
    for workload in workloads():
        for container in workload["spec"]["template"]["spec"]["containers"]:
            if "env" not in container:
                continue
            env = dict(settings)
            env.update({e["name"]: e.get("value", "<secret>") for e in container["env"]})
            yield f"k8s {workload['metadata']['name']}/{container['name']}", env


def test_every_cme_variable_is_a_setting() -> None:
    """Settings ignore unknown variables, so a misspelt one would pass silently."""
    fields = set(Settings.model_fields)
    for where, env in environments():
        for key in env:
            assert key.startswith("CME_"), (where, key)
            assert key.removeprefix("CME_").lower() in fields, (where, key)


def test_the_settings_accept_every_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Read from the environment as the processes will: production settings, with the gateway
    as the only trusted publisher and the default envelope limit (which rabbitmq.conf's
    max_message_size is sized from)."""
    for where, env in environments():
        for key in [k for k in os.environ if k.startswith("CME_")]:
            monkeypatch.delenv(key)
        for key, value in env.items():
            if value != "<secret>":
                monkeypatch.setenv(key, value)
        monkeypatch.setenv("CME_PSEUDONYM_KEY", "x" * 48)
        settings = Settings()
        assert settings.environment is Environment.PRODUCTION, where
        assert settings.trusted_publishers == frozenset({GATEWAY_USER}), where
        assert settings.max_envelope_bytes == settings_default_envelope_limit(), where


async def test_amqp_urls_use_tls_client_certificates() -> None:
    """amqps on 5671, EXTERNAL, the CA and the client's own certificate (aiormq reads them
    from the query), as the user whose certificate is mounted. Async: aiormq needs a loop."""
    for where, env in environments():
        url = env["CME_RABBITMQ_URL"]
        connection = aiormq.Connection(url)
        assert (connection.url.scheme, connection.url.port) == ("amqps", 5671), where
        assert connection.url.path == "/cme", where
        assert AuthMechanism[connection.url.query["auth"].upper()].value is ExternalAuth
        certs = connection.ssl_certs
        assert certs.verify, where
        assert {Path(str(f)).name for f in (certs.cafile, certs.cert, certs.key)} == {
            "ca.crt",
            "tls.crt",
            "tls.key",
        }, where
        assert connection.url.user in (ROUTER_USER, GATEWAY_USER), where
        assert (connection.url.user == GATEWAY_USER) == ("gateway" in where), where


def test_compose_mounts_the_certificate_of_the_user_in_the_url() -> None:
    for name, service in broker_services().items():
        url = urlsplit(service["environment"]["CME_RABBITMQ_URL"])
        query = parse_qs(url.query)
        folder = str(Path(query["certfile"][0]).parent)
        if name == "topology-export":  # writes a file, never connects
            assert folder not in mounts(service)
            continue
        assert mounts(service)[folder] == f"./secrets/{url.username}", name


def test_kubernetes_mounts_the_certificate_of_the_user_in_the_url() -> None:
    """The URL's user is stamped as user_id on every publish: it must be the CN of the client
    certificate mounted beside it (RabbitMQ's EXTERNAL user name)."""
    for workload in workloads():
        pod = pod_spec(workload)
        secrets = {v["name"]: v["secret"]["secretName"] for v in pod["volumes"] if "secret" in v}
        for container in pod["containers"]:
            env = {e["name"]: e.get("value") for e in container.get("env", [])}
            if "CME_RABBITMQ_URL" not in env:
                continue
            url = urlsplit(str(env["CME_RABBITMQ_URL"]))
            folder = str(Path(parse_qs(url.query)["certfile"][0]).parent)
            (mount,) = [m for m in container["volumeMounts"] if m["mountPath"] == folder]
            assert secrets[mount["name"]] == f"{url.username}-amqp-tls", workload["metadata"]


# -- the Dockerfile ---------------------------------------------------------------------------


def dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    text = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text())
    instructions = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            instructions.append((word.upper(), rest.strip()))
    return instructions


def final_stage() -> list[tuple[str, str]]:
    instructions = dockerfile()
    last_from = max(i for i, (word, _) in enumerate(instructions) if word == "FROM")
    return instructions[last_from:]


def test_dockerfile_uses_a_slim_python_base() -> None:
    arguments = dict(a.split("=", 1) for w, a in dockerfile() if w == "ARG" and "=" in a)
    bases = [a.split()[0] for w, a in dockerfile() if w == "FROM"]
    assert len(bases) == 2  # build, then runtime
    for base in bases:
        image = re.sub(r"\$\{(\w+)\}", lambda m: arguments[m.group(1)], base)
        assert re.fullmatch(r"python:3\.11-slim(-\w+)?", image), image


def test_dockerfile_runs_as_a_fixed_non_root_user() -> None:
    stage = final_stage()
    users = [a for w, a in stage if w == "USER"]
    assert users == [f"{BROKER_UID}:{BROKER_UID}"]
    words = [w for w, _ in stage]
    assert words.index("USER") < words.index("ENTRYPOINT")
    assert dict(stage)["ENTRYPOINT"] == '["cme-broker"]'
    assert f"--uid {BROKER_UID}" in " ".join(a for w, a in stage if w == "RUN")


def test_dockerfile_copies_no_secret_and_no_build_tools() -> None:
    sources = []
    for word, arguments in dockerfile():
        assert word != "ADD", "COPY only: ADD fetches URLs and unpacks archives"
        if word == "COPY":
            parts = [p for p in arguments.split() if not p.startswith("--")]
            sources += parts[:-1]
    assert sources, "no COPY found"
    for source in sources:
        assert not re.search(r"secret|\.env|\.key|\.pem|keystore|jwk|\.venv|var/", source), source
    final = final_stage()
    copies = [a for w, a in final if w == "COPY"]
    assert all(
        c.startswith("--from=build /opt/cme ") or c.startswith("deploy/agreements") for c in copies
    )
    runs = " ".join(a for w, a in final if w == "RUN")
    for tool in ("apt-get", "gcc", "build-essential", "pip install"):
        assert tool not in runs, tool
    assert "--only-binary=:all:" in " ".join(a for w, a in dockerfile() if w == "RUN")


def test_dockerignore_is_an_allowlist_covering_every_copy() -> None:
    lines = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert lines[0] == "**"  # everything out, then only what is copied back in
    allowed = {line[1:].rstrip("/") for line in lines if line.startswith("!")}
    for word, arguments in dockerfile():
        if word == "COPY" and not arguments.startswith("--from"):
            for source in arguments.split()[:-1]:
                assert source.rstrip("/") in allowed, source
    for pattern in ("**/*.key", "**/*.pem", "**/.env", "**/secrets/", "**/keystore/"):
        assert pattern in lines, pattern


def test_dockerfile_healthcheck_and_settings_match_the_deployments() -> None:
    stage = final_stage()
    assert ":8080/healthz" in dict(stage)["HEALTHCHECK"]
    env = " ".join(a for w, a in stage if w == "ENV")
    assert "CME_ENVIRONMENT=production" in env
    assert "CME_AGREEMENTS_DIR=/etc/cme/agreements" in env
    assert command_option(services()["router"]["command"], "--port") == "8080"


# -- rabbitmq.conf ------------------------------------------------------------------------------


def test_rabbitmq_listens_on_tls_only_and_requires_client_certificates() -> None:
    conf = rabbitmq_conf()
    assert conf["listeners.tcp"] == "none"
    assert [k for k in conf if k.startswith("listeners.tcp.")] == []
    assert conf["listeners.ssl.default"] == "5671"
    assert conf["ssl_options.verify"] == "verify_peer"
    assert conf["ssl_options.fail_if_no_peer_cert"] == "true"
    versions = {v for k, v in conf.items() if k.startswith("ssl_options.versions.")}
    assert versions == {"tlsv1.2", "tlsv1.3"}
    # Management and metrics: TLS ports only, so neither opens its plain one.
    for plugin, port in (("management", "15671"), ("prometheus", "15691")):
        assert conf[f"{plugin}.ssl.port"] == port
        assert [k for k in conf if k.startswith(f"{plugin}.tcp")] == []


def test_rabbitmq_authenticates_by_certificate_common_name_only() -> None:
    conf = rabbitmq_conf()
    mechanisms = [v for k, v in conf.items() if k.startswith("auth_mechanisms.")]
    assert mechanisms == ["EXTERNAL"]
    assert conf["ssl_cert_login_from"] == "common_name"
    assert conf["loopback_users.guest"] == "true"
    plugins = (DEPLOY / "rabbitmq" / "enabled_plugins").read_text()
    match = re.fullmatch(r"\[([a-z_,\s]*)\]\.\s*", plugins)
    assert match, plugins
    enabled = {p.strip() for p in match.group(1).split(",")}
    assert enabled == {
        "rabbitmq_management",
        "rabbitmq_prometheus",
        "rabbitmq_auth_mechanism_ssl",
    }


def test_size_limits_leave_headroom_over_the_envelope_limit() -> None:
    limit = settings_default_envelope_limit()
    max_message_size = int(rabbitmq_conf()["max_message_size"])
    assert max_message_size >= limit * HEADROOM
    assert max_message_size <= 8 * 1024 * 1024  # still a limit worth having
    for where, env in environments():
        assert int(env["CME_MAX_ENVELOPE_BYTES"]) * HEADROOM <= max_message_size, where
    nginx = (DEPLOY / "proxy" / "nginx.conf").read_text()
    (body,) = re.findall(r"client_max_body_size (\d+)k;", nginx)
    assert int(body) * 1024 >= limit * HEADROOM


def test_quorum_queues_by_default_and_definitions_at_boot() -> None:
    conf = rabbitmq_conf()
    assert conf["default_queue_type"] == "quorum"
    assert conf["cluster_partition_handling"] == "pause_minority"
    assert conf["load_definitions"] == "/etc/rabbitmq/definitions/definitions.json"


def test_the_operator_cluster_has_the_same_policy_as_rabbitmq_conf() -> None:
    """additionalConfig carries every key of rabbitmq.conf with the same value, except what the
    operator sets itself (TLS file paths and listener, management and metrics ports, peer
    discovery) and logging; and nothing rabbitmq.conf does not have."""
    operator_owned = re.compile(
        r"^(ssl_options\.\w*file|listeners\.ssl\.|management\.|prometheus\.|cluster_formation\.|log\.)"
    )
    conf = rabbitmq_conf()
    expected = {k: v for k, v in conf.items() if not operator_owned.match(k)}
    assert additional_config() == expected


# -- Kubernetes -------------------------------------------------------------------------------


def test_kustomization_lists_every_manifest() -> None:
    kustomization = load_yaml(K8S / "kustomization.yaml")
    files = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"}
    assert set(kustomization["resources"]) == files
    assert kustomization["namespace"] == "cme"
    (generated,) = kustomization["configMapGenerator"]
    assert generated["files"] == ["definitions.json"]
    assert kustomization["generatorOptions"]["disableNameSuffixHash"] is True
    assert "k8s/definitions.json" in (DEPLOY / ".gitignore").read_text().split()


@pytest.mark.parametrize("version", K8S_VERSIONS)
def test_kubernetes_objects_match_their_schemas(version: str) -> None:
    checked, custom = [], []
    for name, document in k8s_documents():
        assert document["kind"] == "Namespace" or document["metadata"]["namespace"] == "cme"
        try:
            k8s.validate(document, version, strict=True)
        except k8s.SchemaNotFoundError:
            custom.append(document["kind"])
        except k8s.ValidationError as exc:
            pytest.fail(f"{name}: {document['kind']} {document['metadata']['name']}: {exc}")
        else:
            checked.append(document["kind"])
    assert custom == ["RabbitmqCluster"]  # the only object without a built-in schema
    assert {"Deployment", "Job", "Service", "PodDisruptionBudget", "NetworkPolicy"} <= set(checked)


def test_kubernetes_validation_rejects_mistakes() -> None:
    """The validation is live: an unknown field or a wrong type fails it."""
    deployment = k8s_object("Deployment", "cme-router")
    deployment["spec"]["template"]["spec"]["containers"][0]["securityContxt"] = {}
    with pytest.raises(k8s.ValidationError):
        k8s.validate(deployment, K8S_VERSIONS[-1], strict=True)
    deployment = k8s_object("Deployment", "cme-router")
    deployment["spec"]["replicas"] = "two"
    with pytest.raises(k8s.ValidationError):
        k8s.validate(deployment, K8S_VERSIONS[-1], strict=True)


CLUSTER_SPEC_FIELDS = {
    "replicas",
    "image",
    "imagePullSecrets",
    "service",
    "persistence",
    "resources",
    "affinity",
    "tolerations",
    "rabbitmq",
    "tls",
    "override",
    "secretBackend",
    "skipPostDeploySteps",
    "terminationGracePeriodSeconds",
    "delayStartSeconds",
}
"""Fields of the RabbitmqCluster spec (rabbitmq.com/v1beta1, the operator's CRD)."""


def test_the_rabbitmq_cluster_resource() -> None:
    """No schema for the custom resource here: its shape, and the CRD's own limits."""
    cluster = k8s_object("RabbitmqCluster", "cme-rabbitmq")
    assert cluster["apiVersion"] == "rabbitmq.com/v1beta1"
    spec = cluster["spec"]
    assert set(spec) <= CLUSTER_SPEC_FIELDS
    assert spec["replicas"] == 3
    assert spec["tls"] == {
        "secretName": "cme-rabbitmq-tls",
        "caSecretName": "cme-rabbitmq-ca",
        "disableNonTLSListeners": True,
    }
    assert set(spec["rabbitmq"]) <= {
        "additionalConfig",
        "additionalPlugins",
        "advancedConfig",
        "envConfig",
    }
    assert len(spec["rabbitmq"]["additionalConfig"]) <= 2000  # the CRD's maxLength
    plugins = spec["rabbitmq"]["additionalPlugins"]
    assert "rabbitmq_auth_mechanism_ssl" in plugins
    assert all(re.fullmatch(r"\w+", p) for p in plugins)
    assert spec["service"]["type"] in ("ClusterIP", "LoadBalancer", "NodePort")
    assert re.fullmatch(r"rabbitmq:3\.13\.([3-9]|\d\d)-management", spec["image"])
    # The definitions ConfigMap (kustomization.yaml) is mounted where load_definitions reads.
    pod = spec["override"]["statefulSet"]["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["name"] == "rabbitmq"  # the operator's container, patched by name
    (mount,) = container["volumeMounts"]
    (volume,) = pod["volumes"]
    assert mount["name"] == volume["name"]
    loaded = Path(additional_config()["load_definitions"])
    assert mount["mountPath"] == str(loaded.parent)
    generated = load_yaml(K8S / "kustomization.yaml")["configMapGenerator"][0]
    assert volume["configMap"]["name"] == generated["name"]
    assert generated["files"] == [loaded.name]


def pod_spec(workload: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = workload["spec"]["template"]["spec"]
    return spec


def test_router_and_gateway_deployments() -> None:
    router = k8s_object("Deployment", "cme-router")
    gateway = k8s_object("Deployment", "cme-gateway")
    assert router["spec"]["replicas"] == 2
    assert gateway["spec"]["replicas"] >= 1
    (router_container,) = pod_spec(router)["containers"]
    assert router_container["args"][:2] == ["serve", "--no-gateway"]
    containers = {c["name"]: c for c in pod_spec(gateway)["containers"]}
    assert set(containers) == {"gateway", "proxy"}
    assert containers["gateway"]["args"][:2] == ["serve", "--no-router"]
    assert command_option(containers["gateway"]["args"], "--host") == "127.0.0.1"
    assert command_option(containers["gateway"]["args"], "--port") == "8080"
    for container in (router_container, containers["gateway"]):
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
        assert container["startupProbe"]["httpGet"]["path"] == "/healthz"
    # The gateway's probes go through the proxy's probe port (it answers on 127.0.0.1 only).
    probe_port = containers["gateway"]["readinessProbe"]["httpGet"]["port"]
    assert probe_port in {p["containerPort"] for p in containers["proxy"]["ports"]}
    env = {e["name"]: e.get("value") for e in containers["gateway"]["env"]}
    assert env["CME_GATEWAY_TRUST_PROXY_CERT"] == "true"
    assert "CME_GATEWAY_TRUST_PROXY_CERT" not in {e["name"] for e in router_container["env"]}
    ca_mounts = [
        m
        for m in containers["gateway"]["volumeMounts"]
        if m["mountPath"] == env["CME_GATEWAY_CLIENT_CA"]
    ]
    assert [(m["name"], m.get("subPath")) for m in ca_mounts] == [("https-tls", "ca.crt")]


def test_every_container_is_locked_down() -> None:
    for workload in workloads():
        pod = pod_spec(workload)
        where = workload["metadata"]["name"]
        assert pod["securityContext"]["runAsNonRoot"] is True, where
        assert pod["securityContext"]["runAsUser"] == BROKER_UID, where
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}, where
        assert pod["automountServiceAccountToken"] is False, where
        for container in pod["containers"]:
            context = container["securityContext"]
            assert context["runAsNonRoot"] is True, where
            assert context.get("runAsUser", BROKER_UID) != 0, where
            assert context["readOnlyRootFilesystem"] is True, where
            assert context["allowPrivilegeEscalation"] is False, where
            assert context["capabilities"] == {"drop": ["ALL"]}, where
            resources = container["resources"]
            assert set(resources) == {"requests", "limits"}, where
            assert "memory" in resources["limits"], where
            writable = {m["mountPath"] for m in container["volumeMounts"] if not m.get("readOnly")}
            assert "/tmp" in writable, where


def test_no_secret_values_in_the_manifests() -> None:
    """Secrets are created by the operator (deploy/README.md lists each one): the manifests
    only refer to them."""
    assert "Secret" not in {d["kind"] for _, d in k8s_documents()}
    readme = (DEPLOY / "README.md").read_text()
    referenced = set()
    for workload in workloads():
        pod = pod_spec(workload)
        referenced |= {v["secret"]["secretName"] for v in pod["volumes"] if "secret" in v}
        for container in pod["containers"]:
            for item in container.get("env", []):
                if "valueFrom" in item:
                    referenced.add(item["valueFrom"]["secretKeyRef"]["name"])
                else:
                    assert item["name"] not in ("CME_PSEUDONYM_KEY", "CME_DATABASE_URL")
    tls = k8s_object("RabbitmqCluster", "cme-rabbitmq")["spec"]["tls"]
    referenced |= {tls["secretName"], tls["caSecretName"]}
    assert len(referenced) == 8
    for name in referenced:
        assert f"`{name}`" in readme, name
    settings = k8s_object("ConfigMap", "cme-settings")["data"]
    assert not {"CME_PSEUDONYM_KEY", "CME_DATABASE_URL", "CME_RABBITMQ_URL"} & set(settings)


def test_the_hub_keystore_is_mounted_where_the_keystore_looks() -> None:
    settings = k8s_object("ConfigMap", "cme-settings")["data"]
    folder = FileKeystore(Path(settings["CME_KEYSTORE_DIR"]))._agency_dir(settings["CME_HUB_ID"])
    for name in ("cme-router", "cme-gateway"):
        pod = pod_spec(k8s_object("Deployment", name))
        (container,) = [c for c in pod["containers"] if c["name"] != "proxy"]
        (mount,) = [m for m in container["volumeMounts"] if m["name"] == "hub-keystore"]
        assert mount == {"name": "hub-keystore", "mountPath": str(folder), "readOnly": True}


def test_services_and_budgets_select_existing_pods() -> None:
    labels = [pod_spec_labels(w) for w in workloads() if w["kind"] == "Deployment"]
    labels.append({"app.kubernetes.io/name": "cme-rabbitmq"})  # set by the operator
    for _, document in k8s_documents():
        selector = None
        if document["kind"] == "Service" and document["spec"]["type"] != "ExternalName":
            selector = document["spec"]["selector"]
        elif document["kind"] == "PodDisruptionBudget":
            selector = document["spec"]["selector"]["matchLabels"]
        if selector is not None:
            name = document["metadata"]["name"]
            assert any(selector.items() <= pod.items() for pod in labels), name


def pod_spec_labels(workload: dict[str, Any]) -> dict[str, str]:
    found: dict[str, str] = workload["spec"]["template"]["metadata"]["labels"]
    return found


def test_only_the_gateway_tls_port_is_exposed_outside_the_cluster() -> None:
    exposed = [
        d
        for _, d in k8s_documents()
        if d["kind"] == "Service" and d["spec"]["type"] in ("LoadBalancer", "NodePort")
    ]
    (gateway,) = exposed
    assert [(p["port"], p["targetPort"]) for p in gateway["spec"]["ports"]] == [(443, "https")]
    deployment = k8s_object("Deployment", "cme-gateway")
    (proxy,) = [c for c in pod_spec(deployment)["containers"] if c["name"] == "proxy"]
    assert {p["name"]: p["containerPort"] for p in proxy["ports"]}["https"] == 8443


def test_network_policies_deny_by_default() -> None:
    policies = {
        d["metadata"]["name"]: d for _, d in k8s_documents() if d["kind"] == "NetworkPolicy"
    }
    deny = policies["default-deny-ingress"]["spec"]
    assert deny == {"podSelector": {}, "policyTypes": ["Ingress"]}
    open_ports = {
        (name, port["port"])
        for name, policy in policies.items()
        for rule in policy["spec"].get("ingress", [])
        if "from" not in rule
        for port in rule["ports"]
    }
    assert open_ports == {("cme-gateway", 8443), ("cme-rabbitmq", 5671)}


# -- the gateway's TLS proxy -----------------------------------------------------------------


def test_the_proxy_configuration_is_the_same_in_compose_and_kubernetes() -> None:
    configmap = k8s_object("ConfigMap", "cme-gateway-proxy")
    assert configmap["data"]["nginx.conf"] == (DEPLOY / "proxy" / "nginx.conf").read_text()


def test_the_proxy_sets_the_client_certificate_header_itself() -> None:
    """X-Client-Cert is always set by nginx (from a verified certificate, or empty, so not
    sent): a client's own header never reaches the gateway. The probe port clears it."""
    nginx = (DEPLOY / "proxy" / "nginx.conf").read_text()
    public, probes = nginx.split("listen 8081;")
    assert "listen 8443 ssl;" in public
    assert "proxy_set_header X-Client-Cert $ssl_client_escaped_cert;" in public
    assert "ssl_client_certificate /etc/nginx/tls/ca.crt;" in public
    assert 'proxy_set_header X-Client-Cert "";' in probes
    assert re.search(r"upstream gateway \{\s*server 127\.0\.0\.1:8080;", nginx)
    assert nginx.count("proxy_pass http://gateway;") == 2


# -- the dev CA -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def dev_ca() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_dev_ca", DEPLOY / "tls" / "make_dev_ca.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def common_name(path: Path) -> str:
    cert = x509.load_pem_x509_certificate(path.read_bytes())
    value = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
    return value if isinstance(value, str) else value.decode()


def test_dev_ca_writes_every_identity_with_private_keys(dev_ca: ModuleType, tmp_path: Path) -> None:
    out = tmp_path / "secrets"
    dev_ca.make_all(out, ["school:3304000"])
    expected = {
        "rabbitmq": "rabbitmq",
        ROUTER_USER: ROUTER_USER,
        GATEWAY_USER: GATEWAY_USER,
        "gateway-https": "gateway",
        f"agencies/{routing_word('school:3304000')}": "school.3304000",
    }
    for folder, cn in expected.items():
        assert sorted(p.name for p in (out / folder).iterdir()) == ["ca.crt", "tls.crt", "tls.key"]
        assert common_name(out / folder / "tls.crt") == cn
        assert stat.S_IMODE((out / folder / "tls.key").stat().st_mode) == 0o600
    assert stat.S_IMODE((out / "ca" / "ca.key").stat().st_mode) == 0o600
    # Every directory (or single file, such as the agencies' CA) compose mounts exists.
    for service in services().values():
        for source in mounts(service).values():
            if source.startswith("./secrets/"):
                assert (out / source.removeprefix("./secrets/")).exists(), source
    with pytest.raises(FileExistsError):
        dev_ca.make_all(out, [])


def test_dev_ca_secrets_are_accepted_in_production(dev_ca: ModuleType, tmp_path: Path) -> None:
    dev_ca.make_all(tmp_path, [], readable_keys=True)
    assert stat.S_IMODE((tmp_path / ROUTER_USER / "tls.key").stat().st_mode) == 0o644
    assert stat.S_IMODE((tmp_path / "ca" / "ca.key").stat().st_mode) == 0o600  # never mounted
    env = dict(
        line.split("=", 1) for line in (tmp_path / "cme.env").read_text().splitlines() if line
    )
    (password,) = re.findall(r"POSTGRES_PASSWORD=(\S+)", (tmp_path / "postgres.env").read_text())
    assert f"//cme:{password}@postgres:5432/cme" in env["CME_DATABASE_URL"]
    settings = Settings(
        environment=Environment.PRODUCTION,
        pseudonym_key=SecretStr(env["CME_PSEUDONYM_KEY"]),
        rabbitmq_url=SecretStr(services()["router"]["environment"]["CME_RABBITMQ_URL"]),
    )
    assert len(settings.pseudonym_key.get_secret_value()) >= 32


def handshake(server: ssl.SSLContext, client: ssl.SSLContext, host: str) -> ssl.SSLObject:
    """A TLS handshake in memory; returns the server's side."""
    to_server, to_client = ssl.MemoryBIO(), ssl.MemoryBIO()
    server_in, server_out = ssl.MemoryBIO(), ssl.MemoryBIO()
    client_side = client.wrap_bio(to_client, to_server, server_hostname=host)
    server_side = server.wrap_bio(server_in, server_out, server_side=True)
    done = {"client": False, "server": False}
    for _ in range(20):
        for name, side in (("client", client_side), ("server", server_side)):
            if not done[name]:
                try:
                    side.do_handshake()
                    done[name] = True
                except ssl.SSLWantReadError:
                    pass
        server_in.write(to_server.read())
        to_client.write(server_out.read())
        if all(done.values()):
            # TLS 1.3: the server checks the client's certificate after the client is done.
            client_side.write(b"ping")
            server_in.write(to_server.read())
            assert server_side.read(4) == b"ping"
            return server_side
    raise AssertionError("the handshake did not finish")


def test_dev_ca_certificates_complete_a_mutual_tls_handshake(
    dev_ca: ModuleType, tmp_path: Path
) -> None:
    """As RabbitMQ is configured: the server verifies the client's certificate and fails
    without one; the client checks the server's name (rabbitmq, the nodes' alias)."""
    dev_ca.make_all(tmp_path, [])
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(tmp_path / "rabbitmq" / "tls.crt", tmp_path / "rabbitmq" / "tls.key")
    server.load_verify_locations(tmp_path / "rabbitmq" / "ca.crt")
    server.verify_mode = ssl.CERT_REQUIRED  # verify_peer + fail_if_no_peer_cert
    router = tmp_path / ROUTER_USER
    client = ssl.create_default_context(cafile=router / "ca.crt")
    client.load_cert_chain(router / "tls.crt", router / "tls.key")
    for host in ("rabbitmq", "rabbitmq-2"):
        peer = handshake(server, client, host).getpeercert()
        assert peer is not None
        assert ((("commonName", ROUTER_USER),)) in peer["subject"]
    anonymous = ssl.create_default_context(cafile=router / "ca.crt")
    with pytest.raises(ssl.SSLError):
        handshake(server, anonymous, "rabbitmq")
    with pytest.raises(ssl.SSLCertVerificationError):
        handshake(server, client, "elsewhere")
