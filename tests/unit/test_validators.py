"""Unit tests for scripts/validate_secret_topology.py and scripts/validate_public_truth.py.

Sample lines that the topology validator must flag carry its allow marker here, so that
this file itself passes the validator; the marker is not part of the sample text.
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, SCRIPTS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses resolve annotations through sys.modules
    spec.loader.exec_module(module)
    return module


topology = _load("validate_secret_topology")
truth = _load("validate_public_truth")


def _write(root: Path, files: dict[str, str | bytes]) -> None:
    for relative, content in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")


def _run(script: str, root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPTS / script), "--root", str(root)], capture_output=True, text=True, check=False
    )


# --- validate_secret_topology: single lines -------------------------------------------

FLAGGED = [
    ("conf/hosts.yaml", "server: 10.20.30.40", ["private IPv4 address 10.20.30.40"]),  # secret-topology: allow test input
    ("conf/hosts.yaml", "peer: 172.31.255.254.", ["private IPv4 address 172.31.255.254"]),  # secret-topology: allow test input
    ("docs/net.md", "The router at 192.168.0.10 answers.", ["private IPv4 address 192.168.0.10"]),  # secret-topology: allow test input
    ("conf/cgnat.ini", "addr=100.64.1.1", ["private IPv4 address 100.64.1.1"]),  # secret-topology: allow test input
    ("docs/net.md", "subnet 10.0.0.0/24", ["private IPv4 address 10.0.0.0/24"]),  # secret-topology: allow test input
    ("tests/unit/test_chrony.py", 'HOST = "10.0.0.5"', ["private IPv4 address 10.0.0.5"]),  # secret-topology: allow test input
    ("tests/unit/test_chrony.py", 'BAD = "10.0.0.5/24"', ["private IPv4 address 10.0.0.5/24"]),  # secret-topology: allow test input
    ("data/ip.txt", "link/ether 52:54:00:12:34:56 brd", ["MAC address 52:54:00:12:34:56"]),  # secret-topology: allow test input
    ("data/ip.txt", "mac 52-54-00-AB-CD-EF", ["MAC address 52-54-00-AB-CD-EF"]),  # secret-topology: allow test input
    ("data/switch.txt", "5254.0012.3456 DYNAMIC Gi0/1", ["MAC address 5254.0012.3456"]),  # secret-topology: allow test input
    ("keys/id", "-----BEGIN OPENSSH PRIVATE KEY-----", ["private key header"]),  # secret-topology: allow test input
    ("keys/pgp.asc", "-----BEGIN PGP PRIVATE KEY BLOCK-----", ["private key header"]),  # secret-topology: allow test input
    ("vars.yaml", "db_password: hunter2", ["secret assigned a literal value (db_password)"]),  # secret-topology: allow test input
    ("vars.yaml", "  - api_token: 'abc123'", ["secret assigned a literal value (api_token)"]),  # secret-topology: allow test input
    ("env.sh", "export API_TOKEN=abc123", ["secret assigned a literal value (API_TOKEN)"]),  # secret-topology: allow test input
    ("conf.json", '{"name": "x", "api_key": "abc"}', ["secret assigned a literal value (api_key)"]),  # secret-topology: allow test input
    ("app.py", 'password = "abc"', ["secret assigned a literal value (password)"]),  # secret-topology: allow test input
    ("app.py", 'connect(host, password="abc")', ["secret assigned a literal value (password)"]),  # secret-topology: allow test input
    ("app.py", 'cfg = {"token": os.environ["T"], "secret": "abc"}', ["secret assigned a literal value (secret)"]),  # secret-topology: allow test input
    ("docs/setup.md", "Set `client_secret: abc` in the file.", ["secret assigned a literal value (client_secret)"]),  # secret-topology: allow test input
    ("docs/run.md", "cd /home/alice/tecrax", ["home directory path /home/alice"]),  # secret-topology: allow test input
    ("docs/run.md", "open /Users/bob/notes", ["home directory path /Users/bob"]),  # secret-topology: allow test input
    ("conf/ssh.cfg", "IdentityFile /root/.ssh/id_ed25519", ["home directory path /root/"]),  # secret-topology: allow test input
    ("bench/run.sh", "cd /work/main && ./run", ["machine-local path /work/"]),  # secret-topology: allow test input
    ("bench/run.sh", "PY=/tmp/setup/venv/bin/python", ["machine-local path /tmp/setup"]),  # secret-topology: allow test input
    ("data/route.txt", "10.1.2.3 via 10.1.2.3", ["private IPv4 address 10.1.2.3"]),  # secret-topology: allow test input
    (
        "conf/all.yaml",
        "ntp: 10.1.1.1 mac: 52:54:00:00:00:01 token: abc",  # secret-topology: allow test input
        ["private IPv4 address 10.1.1.1", "MAC address 52:54:00:00:00:01"],  # secret-topology: allow test input
    ),
]


@pytest.mark.parametrize(("path", "line", "reasons"), FLAGGED)
def test_topology_flags(path: str, line: str, reasons: list[str]) -> None:
    assert topology.scan_text(path, line + "\n") == [topology.Finding(path, 1, reason) for reason in reasons]


PASSING = [
    ("conf/hosts.yaml", "servers: [192.0.2.10, 198.51.100.7, 203.0.113.9, 198.18.0.1, 198.19.255.254]"),
    ("conf/hosts.yaml", "public: 8.8.8.8 loopback: 127.0.0.1 wildcard: 0.0.0.0"),
    ("conf/hosts.yaml", "host: ntp1.example url: https://tecrax.invalid/home/x"),
    ("data/snmp.txt", "oid 1.3.6.1.4.1.10.0.0.1 version 2.19.10"),
    ("data/ip.txt", "link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00"),
    ("data/ip.txt", "link/ether 00:00:5e:00:53:2a brd ff:ff:ff:ff:ff:ff"),
    ("data/ip.txt", "inet6 fe80::5054:ff:fe12:3456/64 and 2001:db8:aa:bb:cc:dd:ee:ff"),
    ("data/time.txt", "12:30:45 and a digest sha256:0a1b2c3d4e5f"),
    ("env.yaml", "api_token_secret_ref: zabbix_api"),
    ("env.yaml", "password:"),
    ("env.yaml", 'password: ""'),
    ("env.yaml", "password: <your-password>"),
    ("env.yaml", "password: ${TECRAX_PASSWORD}"),
    ("env.sh", "TOKEN=$TECRAX_TOKEN"),
    ("vars.yaml", 'password: "{{ vault_password }}"'),
    ("vars.yaml", "password: !vault |"),
    ("vars.yaml", "secret: null"),
    ("vars.yaml", "no_secret: false"),
    ("vars.yaml", "token: '***'"),
    ("vars.yaml", "password: [REDACTED]"),
    ("vars.yaml", "token_ttl: 3600"),
    ("schema.json", '"password": {"type": "string"}'),
    ("app.py", 'password = os.environ["TECRAX_PASSWORD"]'),
    ("app.py", "password=dict(type='str', no_log=True),"),
    ("app.py", "if token == 'abc':"),
    ("docs/intro.md", "Password: the operator types it, Tecrax never stores a token: none."),
    ("docs/intro.md", "Secrets only by reference (`*_secret_ref`)."),
    ("docs/intro.md", "Use `~/.ssh/config` or `$HOME/.cache`, never a path under /home/ itself."),
    ("docs/intro.md", "The lab root is /srv/rootfs/ and /var/lib/machines."),
    ("tests/unit/test_chrony.py", 'ALLOWED = ["10.0.0.0/24", "192.168.1.0/24", "172.16.0.0/12", "100.64.0.0/10"]'),
    ("conf/hosts.yaml", "server: 10.9.9.9  # secret-topology: allow lab fixture"),
]


@pytest.mark.parametrize(("path", "line"), PASSING)
def test_topology_passes(path: str, line: str) -> None:
    assert topology.scan_text(path, line + "\n") == []


@pytest.mark.parametrize(
    ("path", "text", "line", "reason"),
    [
        pytest.param("examples/environments/site.yaml",
                     "target: 10.1.2.3\npassword: hunter2\n-----BEGIN RSA PRIVATE KEY-----\n",  # secret-topology: allow test input
                     3, "private key header", id="examples are allowed but not private keys"),
        pytest.param("conf/hosts.yaml", "server: 10.9.9.9  # secret-topology: allow\n",  # secret-topology: allow test input
                     1, "private IPv4 address 10.9.9.9", id="the allow marker needs a reason"),  # secret-topology: allow test input
        pytest.param("docs/runbooks/x.md",
                     "Intro with password: words\n\n```yaml\npassword: hunter2\n```\n\npassword: prose again\n",  # secret-topology: allow test input
                     4, "secret assigned a literal value (password)", id="prose fences are code"),
    ],
)
def test_one_finding(path: str, text: str, line: int, reason: str) -> None:
    assert topology.scan_text(path, text) == [topology.Finding(path, line, reason)]


def test_cidr_allowance_is_only_for_tests() -> None:
    line = 'allowed = "192.168.1.0/24"\n'  # secret-topology: allow test input
    assert topology.scan_text("tests/integration/test_chrony.py", line) == []
    assert topology.scan_text("src/tecrax/defaults.py", line) == [
        topology.Finding("src/tecrax/defaults.py", 1, "private IPv4 address 192.168.1.0/24")  # secret-topology: allow test input
    ]


# --- validate_secret_topology: whole repositories -------------------------------------

TREE: dict[str, str | bytes] = {
    "README.md": "# Clean\nServers live in 192.0.2.0/24.\n",
    "docs/setup.md": "line one\nssh admin@172.16.4.4\n",  # secret-topology: allow test input
    "data/blob.bin": b"\x00\x01 10.1.2.3 binary",  # secret-topology: allow test input
    "examples/env.yaml": "host: 10.1.2.3\n",  # secret-topology: allow test input
    "tests/unit/test_x.py": 'NETS = ["10.0.0.0/24"]\n',
}


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_scan_git_repository(tmp_path: Path) -> None:
    ignored = "ignored/notes.txt"
    _write(tmp_path, {**TREE, ".gitignore": "ignored/\n", ignored: "10.1.2.3\n", "gone.txt": "10.1.2.3\n"})  # secret-topology: allow test input
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    subprocess.run(["git", "-C", str(tmp_path), "add", "README.md", "docs", "gone.txt"], check=True)
    (tmp_path / "gone.txt").unlink()  # tracked but deleted: nothing to scan

    files = topology.repository_files(tmp_path)
    assert ignored not in files and "gone.txt" not in files and "tests/unit/test_x.py" in files
    assert topology.scan(tmp_path) == [topology.Finding("docs/setup.md", 2, "private IPv4 address 172.16.4.4")]  # secret-topology: allow test input

    result = _run("validate_secret_topology.py", tmp_path)
    assert result.returncode == 1
    assert result.stdout == "docs/setup.md:2: private IPv4 address 172.16.4.4\n"  # secret-topology: allow test input


def test_scan_plain_directory(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            **TREE,
            ".venv/lib/site.py": "HOST = '10.1.2.3'\n",  # secret-topology: allow test input
            "tests/output/junit.xml": "10.1.2.3\n",  # secret-topology: allow test input
            "src/pkg/__pycache__/x.txt": "10.1.2.3\n",  # secret-topology: allow test input
            "src/pkg/conf.yaml": "token: abc\nmac: 52:54:00:aa:bb:cc\n",  # secret-topology: allow test input
        },
    )
    assert topology.scan(tmp_path) == [
        topology.Finding("docs/setup.md", 2, "private IPv4 address 172.16.4.4"),  # secret-topology: allow test input
        topology.Finding("src/pkg/conf.yaml", 1, "secret assigned a literal value (token)"),
        topology.Finding("src/pkg/conf.yaml", 2, "MAC address 52:54:00:aa:bb:cc"),  # secret-topology: allow test input
    ]


def test_clean_tree_exits_zero(tmp_path: Path) -> None:
    _write(tmp_path, {"README.md": "# Clean\n", "examples/env.yaml": "host: 10.1.2.3\n"})  # secret-topology: allow test input
    result = _run("validate_secret_topology.py", tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("validate_secret_topology: OK")


# --- validate_public_truth -----------------------------------------------------------

PINS_TEXT = "rexecop==0.2.16a0, govengine==0.16.8 and sclite-core==1.0.8"
GOOD_README = f"""# Tecrax

Governed infrastructure operations. Built on {PINS_TEXT} (exact pins).
Install `tecrax` (not `rexecop[tecrax]`: it pins an older release).

Tecrax does not manage credentials, does not accept arbitrary commands, is not a
scheduler, and does not own lifecycle or policy (RExecOp and GovEngine do).
"""


def _repo(root: Path, overrides: dict[str, str | None] | None = None) -> Path:
    """A minimal consistent repository; ``overrides`` replaces files (None removes one)."""
    files: dict[str, str | None] = {
        "pyproject.toml": (
            '[project]\nname = "tecrax"\nversion = "0.4.0"\n'
            'description = "Governed infrastructure operations."\n'
            'dependencies = ["rexecop==0.2.16a0", "govengine==0.16.8", "sclite-core==1.0.8", "pyyaml>=6"]\n'
        ),
        "src/tecrax/__init__.py": '"""Tecrax."""\n\n__version__ = "0.4.0"\n',
        "galaxy.yml": "---\nnamespace: tecrax\nname: ops\nversion: 0.4.0\n",
        "CHANGELOG.md": "# Changelog\n\n## [Unreleased]\n\n## [0.4.0] - unreleased\n",
        "README.md": GOOD_README,
        "docs/runbooks/chrony.md": "# Chrony\n\nThis runbook is not production-ready guidance for other daemons.\n",
    }
    files.update(overrides or {})
    _write(root, {path: text for path, text in files.items() if text is not None})
    return root


def test_public_truth_passes(tmp_path: Path) -> None:
    root = _repo(tmp_path)
    assert truth.validate(root) == []
    result = _run("validate_public_truth.py", root)
    assert result.returncode == 0 and result.stdout == "validate_public_truth: OK\n"


def test_version_disagreements(tmp_path: Path) -> None:
    root = _repo(tmp_path, {"galaxy.yml": "---\nversion: 0.2.0\n", "CHANGELOG.md": "# Changelog\n\n## [0.0.9]\n"})
    (root / "src/tecrax/__init__.py").write_text('__version__ = "0.1.1"\n', encoding="utf-8")
    assert truth.validate(root) == [
        truth.Problem("CHANGELOG.md", 0, "no '## [0.4.0]' section"),
        truth.Problem("galaxy.yml", 0, "version '0.2.0' differs from pyproject.toml version '0.4.0'"),
        truth.Problem("src/tecrax/__init__.py", 0, "version '0.1.1' differs from pyproject.toml version '0.4.0'"),
    ]


def test_loose_or_missing_pins(tmp_path: Path) -> None:
    root = _repo(tmp_path)
    (root / "pyproject.toml").write_text(
        '[project]\nversion = "0.4.0"\ndependencies = ["rexecop>=0.2", "govengine == 0.16.8"]\n', encoding="utf-8"
    )
    assert truth.check_dependency_pins(root) == [
        truth.Problem("pyproject.toml", 0, "dependency must be exactly rexecop==0.2.16a0, found ['rexecop>=0.2']"),
        truth.Problem("pyproject.toml", 0, "dependency must be exactly sclite-core==1.0.8, found []"),
    ]


def test_readme_missing(tmp_path: Path) -> None:
    root = _repo(tmp_path, {"README.md": None})
    assert truth.check_readme_pins(root) == [
        truth.Problem(
            "README.md", 0, "missing; it must state the exact pins rexecop==0.2.16a0, govengine==0.16.8, sclite-core==1.0.8"
        )
    ]
    result = _run("validate_public_truth.py", root)
    assert result.returncode == 1 and "README.md: missing" in result.stdout


def test_readme_states_other_pins(tmp_path: Path) -> None:
    readme = "# Tecrax\n\nrexecop==0.2.16a0 and sclite-core==1.0.8.\nNeeds govengine==0.16.7.\n"
    root = _repo(tmp_path, {"README.md": readme, "docs/install.md": "pip install 'rexecop>=0.2'\n"})
    assert truth.check_readme_pins(root) == [
        truth.Problem("README.md", 0, "does not state the pin govengine==0.16.8"),
        truth.Problem("README.md", 4, "states govengine==0.16.7 but the pin is govengine==0.16.8"),
        truth.Problem("docs/install.md", 1, "states rexecop>=0.2 but the pin is rexecop==0.2.16a0"),
    ]


CLAIMED = [
    ("Tecrax is production-ready.", "production-ready", "production-ready"),
    ("An enterprise-grade\nplatform.", "enterprise-grade", "enterprise-grade"),
    ("Tecrax manages credentials for you.", "manages credentials", "manages credentials"),
    ("It accepts arbitrary commands.", "accepts arbitrary commands", "accepts arbitrary commands"),
    ("Tecrax is a scheduler.", "is a scheduler", "is a scheduler"),
    ("Tecrax owns the lifecycle.", "owns lifecycle or policy", "owns the lifecycle"),
    ("It does not need root and is production ready.", "production-ready", "production ready"),
    ("## Non-claims\n\n- production-grade", "production-ready", "production-grade"),
]


@pytest.mark.parametrize(("text", "label", "phrase"), CLAIMED)
def test_forbidden_claims(text: str, label: str, phrase: str) -> None:
    line = text[: text.lower().index(phrase.split()[0].lower())].count("\n") + 1
    assert truth.claims_in("README.md", text) == [
        truth.Problem("README.md", line, f"forbidden claim '{label}': {phrase!r}")
    ]


NEGATED = [
    "Tecrax does not manage credentials.",
    "Tecrax doesn't manage credentials and never runs arbitrary commands.",
    "Tecrax does not\nmanage credentials.",
    "It is not production-ready.",
    "Tecrax is neither production-ready nor enterprise-grade.",
    "Tecrax does not manage credentials, does not accept arbitrary commands, is not a scheduler, "
    "does not own lifecycle or policy (RExecOp and GovEngine do).",
    "It is production-ready only in name.  <!-- public-truth: allow quoting a rejected slogan -->",
    "RExecOp owns the lifecycle, GovEngine the policy decisions, SCLite the evidence.",
    "The operator manages credentials outside Tecrax.",
]


@pytest.mark.parametrize("text", NEGATED)
def test_negated_claims_pass(text: str) -> None:
    assert truth.claims_in("docs/x.md", text) == []


def test_claims_in_repository_documents(tmp_path: Path) -> None:
    root = _repo(
        tmp_path,
        {
            "docs/runbooks/bad.md": "# Bad\n\nThis runbook is battle-tested.\n",
            "galaxy.yml": "---\nversion: 0.4.0\ndescription: Enterprise-grade observations.\n",
        },
    )
    assert sorted(truth.check_claims(root)) == [
        truth.Problem("docs/runbooks/bad.md", 3, "forbidden claim 'battle-tested': 'battle-tested'"),
        truth.Problem("galaxy.yml", 3, "forbidden claim 'enterprise-grade': 'Enterprise-grade'"),
    ]


def test_claims_in_linked_runbooks_are_checked(tmp_path: Path) -> None:
    root = _repo(tmp_path, {"docs/runbooks/chrony.md": None,
                            "profile/runbooks/bad-runbook.md": "# Bad\n\nThis runbook is battle-tested.\n"})
    (root / "docs").mkdir(exist_ok=True)
    (root / "docs" / "runbooks").symlink_to("../profile/runbooks", target_is_directory=True)
    assert truth.check_claims(root) == [
        truth.Problem("docs/runbooks/bad-runbook.md", 3, "forbidden claim 'battle-tested': 'battle-tested'"),
    ]


@pytest.mark.parametrize("version", ["0.1.0", "0.3.11a0", "0.3.10"])
def test_a_version_below_the_published_line_is_refused(tmp_path: Path, version: str) -> None:
    root = _repo(tmp_path, {
        "pyproject.toml": (f'[project]\nname = "tecrax"\nversion = "{version}"\n'
                           'dependencies = ["rexecop==0.2.16a0", "govengine==0.16.8", "sclite-core==1.0.8"]\n'),
        "src/tecrax/__init__.py": f'__version__ = "{version}"\n',
        "galaxy.yml": f"---\nversion: {version}\n",
        "CHANGELOG.md": f"# Changelog\n\n## [{version}]\n",
    })
    assert truth.Problem("pyproject.toml", 0, f"version {version} does not order after the published 0.3.11a0") in truth.validate(root)


@pytest.mark.parametrize(
    ("readme", "document", "expected"),
    [
        (GOOD_README.replace("Install `tecrax` (not `rexecop[tecrax]`: it pins an older release).\n", ""), None,
         [truth.Problem("README.md", 0, "does not warn off rexecop[tecrax] (it pins the older tecrax 0.3.11a0)")]),
        (GOOD_README + "\nOr use `rexecop[tecrax]` for a cross-stack pin.\n", None, []),
        (GOOD_README, "Cross-stack pin:\n\n    pip install \"rexecop[tecrax]==0.2.16a0\"\n",
         [truth.Problem("docs/install.md", 3, "installs rexecop[tecrax], which pins the older tecrax 0.3.11a0")]),
        (GOOD_README, "Never pip install rexecop[tecrax] here.\n", []),
    ],
)
def test_the_readme_warns_off_the_rexecop_extra(
    tmp_path: Path, readme: str, document: str | None, expected: list[object]
) -> None:
    root = _repo(tmp_path, {"README.md": readme, "docs/install.md": document})
    assert truth.check_extra_warning(root) == expected
