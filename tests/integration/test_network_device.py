"""Network-device intents end to end: RExecOp / GovEngine / SCLite -> tecrax_ansible (local
connection on the controller) -> the module -> the reference wrapper -> real SSH -> a lab
host playing the switch (see network_lab.py: its forced command answers CLI commands with the
composed device outputs of tests/unit/data/network).

Because the device host prints exactly those files, the facts recorded by RExecOp must equal
the facts the unit-tested normalizer gives for them; the tests check that, plus the key
values spelled out, the validation verdict and that the SCLite bundle verifies.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

import network_lab as nl
from harness import Governed, Outcome, allow_read_policy, write_environment

INVENTORY = "collect_network_device_inventory_readonly"
POSTURE = "assess_network_device_management_posture_readonly"
INVENTORY_KEY = "network_device_inventory"
POSTURE_KEY = "network_management_posture"
pytestmark = pytest.mark.lab

DEVICES = [
    nl.Device("sw-tplink", "tplink-sg2452-v1-fw102-defaults", "tplink_jetstream"),
    nl.Device("sw-hpe", "hpe-v1910-48g-r1519p03", "hpe_comware5"),
    nl.Device("sw-paged", "hpe-v1910-24g-r1513p81-ssh1", "hpe_comware5"),
    # A TP-Link the operator configured as JetStream, but a model Tecrax does not support.
    nl.Device("sw-t2600g", "unsupported-tplink-t2600g", "tplink_jetstream"),
]
nd = nl.network_device_normalizer()
STEP = {INVENTORY: "observe_network_device", POSTURE: "assess_network_device"}


@pytest.fixture(scope="module")
def network(lab: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    work = tmp_path_factory.mktemp("network")
    keys = nl.generate_device_keys(work / "keys", DEVICES)
    device_host = nl.boot_device_host(lab, "netdev", DEVICES, keys)
    gone = lab.add_host("netgone")
    gone_address = gone.address
    lab.stop_host(gone)  # its address no longer answers: the device is down
    configs = {d.target: {"host": device_host.address, "family": d.family,
                          "identity_file": str(keys[d.target])} for d in DEVICES}
    configs["sw-down"] = {"host": gone_address, "family": "hpe_comware5",
                          "identity_file": str(keys["sw-hpe"])}
    wrapper = nl.install_wrapper(work / "wrapper", lab, configs)
    return {"host": device_host, "wrapper": wrapper, "work": work}


@pytest.fixture(scope="module")
def environment(network: dict[str, Any], lab: Any) -> Path:
    """Targets of type network_device on the local connection, each with its wrapper path;
    `sw-unconfigured` has a wrapper path but no device file, `sw-no-settings` no settings."""
    settings = {"wrapper_path": str(network["wrapper"]), "timeout_seconds": 20}
    names = [d.target for d in DEVICES] + ["sw-down", "sw-unconfigured"]
    inventory: dict[str, Any] = {name: {"connection": "local", "network_device": settings} for name in names}
    inventory["sw-no-settings"] = {"connection": "local"}
    path = network["work"] / "environment.yaml"
    write_environment(path, [], known_hosts=lab.known_hosts, policy=allow_read_policy(),
                      connector={"inventory": inventory, "timeout_seconds": 120})
    document = yaml.safe_load(path.read_text())
    document["environment"]["targets"] = {name: {"type": "network_device", "criticality": "low"}
                                          for name in inventory}
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path



def expected_facts(case: str, intent: str) -> dict[str, Any]:
    """What the unit-tested normalizer makes of the files the device host prints."""
    system_info = (nl.DEVICE_DATA / case / "system-info.txt").read_bytes()
    raw: dict[str, Any] = {"system_info": {"status": "ok", "exit_code": 0, "output": system_info},
                           "ssh_status": {"status": "not_run"}}
    if nd.identify_family(system_info):
        ssh_status = (nl.DEVICE_DATA / case / "ssh-status.txt").read_bytes()
        raw["ssh_status"] = {"status": "ok", "exit_code": 0, "output": ssh_status}
    return nd.normalize_inventory(raw) if intent == INVENTORY else nd.assess_posture(raw)


def recorded(outcome: Outcome, intent: str) -> dict[str, Any]:
    """The run reached the device and was recorded: steps ok, evidence verifies."""
    assert outcome.last_failure is None, outcome.last_failure
    assert outcome.runtime_receipt["success"] is True, outcome.runtime_receipt
    assert outcome.evidence_verified, outcome.evidence_checks
    step = outcome.step_data(STEP[intent])
    assert step["changed"] is False and step["check_mode"] is False
    key = INVENTORY_KEY if intent == INVENTORY else POSTURE_KEY
    assert step["facts_key"] == key
    return dict(outcome.facts[key])


def test_tplink_inventory_is_complete(governed: Governed, environment: Path) -> None:
    started = time.monotonic()
    outcome = governed.run(environment, INVENTORY, "sw-tplink")
    print(f"tplink inventory: {time.monotonic() - started:.1f} s")
    facts = recorded(outcome, INVENTORY)
    assert outcome.state == "completed" and outcome.validation_passed
    assert outcome.validation["rule"] == f"{INVENTORY}.complete"
    assert facts == expected_facts("tplink-sg2452-v1-fw102-defaults", INVENTORY)
    assert facts["device"]["model"] == "TL-SG2452"
    assert facts["device"]["software_version"] == "1.0.2 Build 20140109 Rel.46154"
    assert facts["ssh"]["protocol_versions"] == {"v1": True, "v2": True}
    assert facts["wrapper"]["system_info"]["status"] == "ok"


def test_tplink_posture_is_unhealthy(governed: Governed, environment: Path) -> None:
    outcome = governed.run(environment, POSTURE, "sw-tplink")
    facts = recorded(outcome, POSTURE)
    assert outcome.state == "failed" and not outcome.validation_passed
    assert outcome.validation["rule"] == f"{POSTURE}.not_healthy"
    assert facts == expected_facts("tplink-sg2452-v1-fw102-defaults", POSTURE)
    assert facts["assessment"] == {"state": "unhealthy",
                                   "reasons": ["legacy_ssh_v1_enabled", "legacy_ssh_crypto_observed"]}
    assert facts["legacy_algorithms_enabled"] == ["blowfish-cbc", "cast128-cbc", "3des-cbc", "hmac-md5"]


def test_hpe_inventory_and_healthy_posture(governed: Governed, environment: Path) -> None:
    inventory = governed.run(environment, INVENTORY, "sw-hpe")
    facts = recorded(inventory, INVENTORY)
    assert inventory.state == "completed" and inventory.validation_passed
    assert facts == expected_facts("hpe-v1910-48g-r1519p03", INVENTORY)
    assert facts["device"]["model"] == "V1910-48G"
    assert facts["device"]["withheld"] == ["serial_number", "mac_address"]
    posture = governed.run(environment, POSTURE, "sw-hpe")
    posture_facts = recorded(posture, POSTURE)
    assert posture.state == "completed" and posture.validation_passed
    assert posture.validation["rule"] == f"{POSTURE}.healthy"
    assert posture_facts == expected_facts("hpe-v1910-48g-r1519p03", POSTURE)
    assert [f["id"] for f in posture_facts["findings"]] == ["ssh_idle_timeout_unknown",
                                                              "ssh_max_clients_unknown"]


def test_paged_hpe_with_ssh1_is_unhealthy(governed: Governed, environment: Path) -> None:
    outcome = governed.run(environment, POSTURE, "sw-paged")
    facts = recorded(outcome, POSTURE)
    assert outcome.state == "failed" and outcome.validation["rule"] == f"{POSTURE}.not_healthy"
    assert facts == expected_facts("hpe-v1910-24g-r1513p81-ssh1", POSTURE)
    assert facts["wrapper"]["system_info"]["paging_prompts_removed"] == 1
    assert facts["legacy_algorithms_enabled"] == ["3des"]


def test_unknown_device_is_unsupported(governed: Governed, environment: Path) -> None:
    inventory = governed.run(environment, INVENTORY, "sw-t2600g")
    facts = recorded(inventory, INVENTORY)
    assert inventory.state == "failed" and inventory.validation["rule"] == f"{INVENTORY}.incomplete"
    assert facts == expected_facts("unsupported-tplink-t2600g", INVENTORY)
    assert facts["device"]["support"] == "unsupported"
    assert facts["coverage"] == {"state": "partial", "blockers": ["device_family_unsupported"]}
    assert facts["wrapper"]["ssh_status"]["status"] == "not_run"
    posture = governed.run(environment, POSTURE, "sw-t2600g")
    posture_facts = recorded(posture, POSTURE)
    assert posture.validation["rule"] == f"{POSTURE}.not_healthy"
    assert posture_facts == expected_facts("unsupported-tplink-t2600g", POSTURE)
    assert posture_facts["assessment"] == {"state": "unknown"} and posture_facts["findings"] == []


@pytest.mark.parametrize(("target", "exit_code"), [("sw-down", 69), ("sw-unconfigured", 78)])
def test_wrapper_failure_is_unavailable(governed: Governed, environment: Path, target: str,
                                        exit_code: int) -> None:
    started = time.monotonic()
    outcome = governed.run(environment, INVENTORY, target)
    print(f"{target}: {time.monotonic() - started:.1f} s")
    facts = recorded(outcome, INVENTORY)
    assert outcome.state == "failed" and outcome.validation["rule"] == f"{INVENTORY}.incomplete"
    assert facts["assessment"] == {"state": "unavailable"}
    assert facts["coverage"] == {"state": "blocked", "blockers": ["system_info_failed"]}
    assert facts["wrapper"]["system_info"] == {"status": "failed", "exit_code": exit_code,
                                               "output_bytes": 0, "paging_prompts_removed": 0}
    assert facts["wrapper"]["ssh_status"]["status"] == "not_run"
    assert facts == nd.normalize_inventory({"system_info": {"status": "failed", "exit_code": exit_code}})


def test_target_without_settings_is_refused_before_ansible(governed: Governed, environment: Path,
                                                           network: dict[str, Any]) -> None:
    outcome = governed.run(environment, INVENTORY, "sw-no-settings")
    assert outcome.state == "failed"
    assert outcome.last_failure["error_class"] == "validation_failed"
    assert "inventory.sw-no-settings.network_device" in json.dumps(outcome.last_failure)
    assert str(network["wrapper"]) not in json.dumps(outcome.last_failure)
    assert outcome.evidence_verified, outcome.evidence_checks
