"""Fuzz: the AdGuard Home and Portainer checks (facts, DNS wire parser, HTTP client, TLS trust
anchor, endpoint options), on mutated recordings. No exception but the documented one,
schema-valid facts.

``test-ca.pem`` next to the recorded answers is a throw-away CA certificate made like
openssl_pki's (its key was discarded): the seed of the CA file parser.
"""

from __future__ import annotations

import dataclasses
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.tecrax.ops.plugins.module_utils.services import dns_wire
from ansible_collections.tecrax.ops.plugins.module_utils.services import service_endpoints as endpoints
from ansible_collections.tecrax.ops.plugins.module_utils.services import service_probes as probes
from ansible_collections.tecrax.ops.plugins.module_utils.services.adguard_facts import observe_adguard
from ansible_collections.tecrax.ops.plugins.module_utils.services.portainer_facts import observe_portainer
from unit.conftest import DATA_DIR
from unit.mutations import FUZZ, mutated
from unit.service_replay import DNS_REPLIES, HTTP_RESPONSES, HttpReplayServer, dns_reply, exchange_from_raw

DNS_CASES = [(dns_reply(case), entry["query_id"], entry["query_name"]) for case, entry in sorted(DNS_REPLIES.items())]
RAW_HTTP = [raw["raw"].encode("latin-1") for _case, raw in sorted(HTTP_RESPONSES.items())]
ANSWERS = {case: dataclasses.asdict(exchange_from_raw(raw["raw"].encode("latin-1"), tls_verified=True))
           for case, raw in sorted(HTTP_RESPONSES.items()) if case.startswith(("login_", "portainer_"))}


def _adguard_seeds() -> list[dict[str, Any]]:
    return [{"dns_failure": None, "message": message, "txid": txid, "name": name, "login": answer, "scheme": scheme}
            for message, txid, name in DNS_CASES
            for case, answer in ANSWERS.items() if case.startswith("login_")
            for scheme in ("http", "https")]


@FUZZ
@given(st.sampled_from(_adguard_seeds()).flatmap(lambda seed: mutated(seed, keep_types=True)))
def test_adguard_facts_of_mutated_answers(facts_schema_errors: Any, raw: dict[str, Any]) -> None:
    dns = probes.DnsExchange(failure=raw["dns_failure"], message=raw["message"])
    facts = observe_adguard(dns, raw["txid"], raw["name"], probes.HttpExchange(**raw["login"]), raw["scheme"])
    assert facts_schema_errors(facts, "adguard_reachability.v1.schema.json") == []


@FUZZ
@given(st.sampled_from(sorted(ANSWERS.values(), key=repr)).flatmap(
    lambda seed: mutated(seed, keep_types=True, json=True)))
def test_portainer_facts_of_mutated_answers(facts_schema_errors: Any, answer: dict[str, Any]) -> None:
    facts = observe_portainer(probes.HttpExchange(**answer))
    assert facts_schema_errors(facts, "portainer_reachability.v1.schema.json") == []


@FUZZ
@given(st.sampled_from(DNS_CASES).flatmap(lambda seed: mutated(seed, paths=[(0,)], keep_types=True)))
def test_dns_reply_parser_of_mutated_replies(case: tuple[bytes, int, str]) -> None:
    message, txid, name = case
    reply = dns_wire.parse_reply(message, txid, name)
    if reply.malformed:
        assert reply == dns_wire.MALFORMED
    else:
        assert 0 <= reply.rcode <= 15 and 0 <= reply.address_records <= dns_wire.MAX_ANSWER_RECORDS
    reply_id = dns_wire.reply_id(message)
    assert reply_id is None or 0 <= reply_id <= 0xFFFF


class _SettableReplayServer(HttpReplayServer):
    """One local server for all examples; each example sets what it answers."""

    def answer_with(self, raw: bytes) -> None:
        self._raw = raw


@pytest.fixture(scope="module")
def http_server() -> Iterator[_SettableReplayServer]:
    server = _SettableReplayServer(b"")
    yield server
    server.close()


@FUZZ
@given(st.sampled_from(RAW_HTTP).flatmap(lambda seed: mutated(seed, keep_types=True)), st.sampled_from([0, 64, 65536]))
def test_http_client_of_mutated_responses(http_server: _SettableReplayServer, raw: bytes, max_bytes: int) -> None:
    http_server.answer_with(raw)
    endpoint = endpoints.parse_web_url("http://127.0.0.1:%d" % http_server.port, "web_url")
    exchange = probes.http_get(endpoint, "/login.html", None, 5, max_bytes)
    if exchange.failure is not None:
        assert exchange.failure in probes.HTTP_FAILURES and exchange.status is None
    else:
        assert isinstance(exchange.status, int) and len(exchange.body) <= max_bytes


CA_PEM = (DATA_DIR / "adguard_portainer" / "test-ca.pem").read_bytes()


@pytest.fixture(scope="module")
def ca_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz-ca") / "ca.pem"


@FUZZ
@given(mutated(CA_PEM, keep_types=True))
def test_ca_file_reader_of_mutated_certificates(ca_path: Path, pem: bytes) -> None:
    ca_path.write_bytes(pem)
    try:
        context = probes.tls_context(str(ca_path))
    except probes.TlsSetupError as error:
        assert str(error).startswith("ca_file holds no")
        return
    assert isinstance(context, ssl.SSLContext) and context.verify_mode == ssl.CERT_REQUIRED


ADGUARD_SETTINGS = {"dns_server": "192.0.2.53", "dns_port": 53, "query_name": "adguard-probe.example.org",
                    "web_url": "https://adguard.example.org:8443/admin", "ca_file": "/etc/tecrax/adguard-ca.pem",
                    "timeout_seconds": 5}
PORTAINER_SETTINGS = {"base_url": "https://[2001:db8::9]:9443", "ca_file": "/etc/tecrax/portainer-ca.pem",
                      "timeout_seconds": 10}
PLAIN_ADGUARD_SETTINGS = dict(ADGUARD_SETTINGS, web_url="http://192.0.2.1/adguard", ca_file=None)
SETTINGS = [("adguard", ADGUARD_SETTINGS), ("adguard", PLAIN_ADGUARD_SETTINGS), ("portainer", PORTAINER_SETTINGS)]


@FUZZ
@given(st.sampled_from(SETTINGS).flatmap(lambda seed: mutated(seed, paths=[(1, key) for key in seed[1]])))
def test_endpoint_settings_of_mutated_values(seed: tuple[str, dict[str, Any]]) -> None:
    kind, settings = seed
    check = endpoints.adguard_settings if kind == "adguard" else endpoints.portainer_settings
    try:
        checked = check(settings)
    except endpoints.EndpointOptionError as error:
        message = str(error)
        assert message.split(" ", maxsplit=1)[0] in settings or message.startswith("unknown key")
        assert not any(isinstance(value, str) and len(value) > 16 and value in message for value in settings.values())
        return
    assert set(checked) <= set(endpoints.ADGUARD_KEYS + endpoints.PORTAINER_KEYS)
    assert 1 <= checked["timeout_seconds"] <= endpoints.MAX_TIMEOUT_SECONDS
