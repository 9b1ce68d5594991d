"""The tecrax.docker_service_health normalizer, on recorded outputs and on hostile input.

Provenance of the data files: tests/unit/data/docker_service_health/README.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.tecrax.ops.plugins.module_utils.host.docker_service_health import (
    normalize_docker_service_health,
)
from ansible_collections.tecrax.ops.plugins.module_utils.common.facts_envelope import (
    MAX_FACTS_BYTES,
    canonical_json,
)

DATA = Path(__file__).resolve().parents[2] / "data" / "docker_service_health"
SCHEMA = "docker_service_health.v1.schema.json"


def facts_for(out: Any, rc: Any = 0) -> dict[str, Any]:
    return normalize_docker_service_health({"systemctl_show": {"rc": rc, "out": out}})


def recorded(name: str, rc: int = 0) -> dict[str, Any]:
    return facts_for((DATA / name).read_bytes(), rc)


def unit(name: str, load: Any, active: Any, sub: Any, file_state: Any, result: Any) -> dict[str, Any]:
    return {"unit": name, "load_state": load, "active_state": active, "sub_state": sub,
            "unit_file_state": file_state, "result": result}


COMPLETE = {"state": "complete", "blockers": []}
BOTH = {"requested": ["docker_service", "docker_socket"], "observed": ["docker_service", "docker_socket"],
        "not_observed": []}


# file, assessment, docker.service fields, docker.socket fields
RECORDED = [
    ("running.txt", {"state": "healthy"},
     ("loaded", "active", "running", "enabled", "success"),
     ("loaded", "active", "running", "enabled", "success")),
    ("running-disabled.txt", {"state": "healthy"},
     ("loaded", "active", "running", "disabled", "success"),
     ("loaded", "active", "running", "disabled", "success")),
    ("service-stopped-socket-listening.txt", {"state": "unhealthy", "reasons": ["docker_inactive"]},
     ("loaded", "inactive", "dead", "enabled", "success"),
     ("loaded", "active", "listening", "enabled", "success")),
    ("stopped.txt", {"state": "unhealthy", "reasons": ["docker_inactive"]},
     ("loaded", "inactive", "dead", "enabled", "success"),
     ("loaded", "inactive", "dead", "enabled", "success")),
    ("failed.txt", {"state": "unhealthy", "reasons": ["docker_failed"]},
     ("loaded", "failed", "failed", "enabled", "exit-code"),
     ("loaded", "failed", "failed", "enabled", "service-start-limit-hit")),
    ("auto-restart.txt", {"state": "unhealthy", "reasons": ["docker_activating"]},
     ("loaded", "activating", "auto-restart", "enabled", "exit-code"),
     ("loaded", "active", "listening", "enabled", "success")),
    ("masked.txt", {"state": "unhealthy", "reasons": ["docker_masked"]},
     ("masked", "inactive", "dead", "masked", "success"),
     ("loaded", "inactive", "dead", "disabled", "success")),
    ("not-installed.txt", {"state": "unhealthy", "reasons": ["docker_not_installed"]},
     ("not-found", "inactive", "dead", None, "success"),
     ("not-found", "inactive", "dead", None, "success")),
]


@pytest.mark.parametrize("name, assessment, service, socket", RECORDED, ids=[case[0] for case in RECORDED])
def test_recorded_states(name: str, assessment: dict[str, Any], service: tuple[Any, ...],
                         socket: tuple[Any, ...], facts_schema_errors: Any) -> None:
    facts = recorded(name)
    assert facts_schema_errors(facts, SCHEMA) == []
    assert facts["contract"] == {"id": "tecrax.docker_service_health", "version": "1.0"}
    assert facts["scope"] == BOTH
    assert facts["coverage"] == COMPLETE
    assert facts["assessment"] == assessment
    assert facts["units"] == {
        "docker_service": unit("docker.service", *service),
        "docker_socket": unit("docker.socket", *socket),
    }


def test_systemd_not_running_is_unavailable_not_unhealthy(facts_schema_errors: Any) -> None:
    facts = recorded("systemd-not-running.txt", rc=1)
    assert facts_schema_errors(facts, SCHEMA) == []
    assert facts["scope"]["observed"] == []
    assert facts["coverage"] == {"state": "blocked", "blockers": ["systemctl_show_failed"]}
    assert facts["assessment"] == {"state": "unavailable"}
    assert facts["units"]["docker_service"] == unit("docker.service", None, None, None, None, None)


def test_missing_systemctl_is_unavailable(facts_schema_errors: Any) -> None:
    facts = facts_for(b"", rc=None)
    assert facts_schema_errors(facts, SCHEMA) == []
    assert facts["coverage"] == {"state": "blocked", "blockers": ["systemctl_not_found"]}
    assert facts["assessment"] == {"state": "unavailable"}


def test_output_of_a_failed_run_is_still_used() -> None:
    # systemctl exits non-zero only when systemd could not answer; should a block still come
    # back, the unit state in it was observed.
    facts = recorded("running.txt", rc=1)
    assert facts["assessment"] == {"state": "healthy"}
    assert facts["coverage"] == COMPLETE


def test_only_the_socket_observed_is_unknown(facts_schema_errors: Any) -> None:
    text = (DATA / "running.txt").read_text().split("\n\n")[1]
    facts = facts_for(text)
    assert facts_schema_errors(facts, SCHEMA) == []
    assert facts["scope"]["observed"] == ["docker_socket"]
    assert facts["coverage"] == {"state": "partial", "blockers": ["docker_service_unparsed"]}
    assert facts["assessment"] == {"state": "unknown"}


def test_only_the_service_observed_is_judged_on_the_service(facts_schema_errors: Any) -> None:
    text = (DATA / "failed.txt").read_text().split("\n\n")[0]
    facts = facts_for(text)
    assert facts_schema_errors(facts, SCHEMA) == []
    assert facts["coverage"] == {"state": "partial", "blockers": ["docker_socket_unparsed"]}
    assert facts["assessment"] == {"state": "unhealthy", "reasons": ["docker_failed"]}


@pytest.mark.parametrize(
    "load, active, reasons",
    [
        ("loaded", "reloading", None),
        ("loaded", "deactivating", ["docker_deactivating"]),
        ("loaded", "maintenance", ["docker_not_active"]),
        ("bad-setting", "inactive", ["docker_not_loaded"]),
        ("error", "inactive", ["docker_not_loaded"]),
    ],
)
def test_other_systemd_states(load: str, active: str, reasons: list[str] | None, facts_schema_errors: Any) -> None:
    text = f"Id=docker.service\nLoadState={load}\nActiveState={active}\nSubState=dead\n"
    facts = facts_for(text)
    assert facts_schema_errors(facts, SCHEMA) == []
    expected = {"state": "healthy"} if reasons is None else {"state": "unhealthy", "reasons": reasons}
    assert facts["assessment"] == expected


@pytest.mark.parametrize(
    "raw",
    [None, {}, [], "Id=docker.service", {"systemctl_show": None}, {"systemctl_show": {"rc": "0", "out": "x"}},
     {"systemctl_show": {"rc": True, "out": (DATA / "running.txt").read_text()}},
     {"systemctl_show": {"rc": 0, "out": 12345}}],
)
def test_malformed_raw_input_is_not_observed(raw: Any, facts_schema_errors: Any) -> None:
    facts = normalize_docker_service_health(raw)
    assert facts_schema_errors(facts, SCHEMA) == []
    assert facts["assessment"] == {"state": "unavailable"}
    assert facts["coverage"]["state"] == "blocked"


@pytest.mark.parametrize("out", [b"", b"\x00\xff" * 5000, "Id=docker.service\x00LoadState=loaded", "\n\n\n"])
def test_empty_and_binary_output_is_unparsed(out: Any, facts_schema_errors: Any) -> None:
    facts = facts_for(out)
    assert facts_schema_errors(facts, SCHEMA) == []
    assert facts["coverage"] == {"state": "blocked",
                                 "blockers": ["docker_service_unparsed", "docker_socket_unparsed"]}
    assert facts["assessment"] == {"state": "unavailable"}


def test_huge_output_is_bounded(facts_schema_errors: Any, raw_prefix: Any) -> None:
    huge = (DATA / "running.txt").read_bytes() + b"\n" + (b"Id=x.service\nLoadState=loaded\n\n" * 400_000)
    facts = facts_for(huge)
    assert facts == facts_for(raw_prefix(huge))  # nothing past the bound is read
    assert facts_schema_errors(facts, SCHEMA) == []
    assert facts["assessment"] == {"state": "healthy"}
    assert len(canonical_json(facts)) < MAX_FACTS_BYTES


def test_real_blocks_after_the_input_bound_are_not_read() -> None:
    padding = b"X=" + b"y" * (70 * 1024) + b"\n\n"
    facts = facts_for(padding + (DATA / "running.txt").read_bytes())
    assert facts["coverage"]["state"] == "blocked"


PROPERTY_LINES = st.one_of(
    st.sampled_from(["Id=docker.service", "Id=docker.socket", "", "LoadState=loaded", "LoadState=not-found",
                     "ActiveState=active", "ActiveState=failed", "SubState=running", "UnitFileState=",
                     "Result=success", "LoadState=", "garbage"]),
    st.builds(lambda key, value: f"{key}={value}",
              st.sampled_from(["Id", "LoadState", "ActiveState", "SubState", "UnitFileState", "Result"]),
              st.text(max_size=60)),
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(PROPERTY_LINES, max_size=30), st.one_of(st.none(), st.integers(-5, 300)))
def test_any_property_soup_gives_schema_valid_facts(facts_schema_errors: Any, lines: list[str], rc: Any) -> None:
    facts = facts_for("\n".join(lines), rc)
    assert facts_schema_errors(facts, SCHEMA) == []
    assert (facts["assessment"]["state"] == "unavailable") == (facts["coverage"]["state"] == "blocked")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.binary(max_size=4096), st.text(max_size=4096)), st.one_of(st.none(), st.integers()))
def test_arbitrary_bytes_give_schema_valid_facts(facts_schema_errors: Any, out: Any, rc: Any) -> None:
    facts = facts_for(out, rc)
    assert facts_schema_errors(facts, SCHEMA) == []
