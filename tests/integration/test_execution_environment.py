"""execution-environment.yml: the build context `ansible-builder create` writes from it carries
this checkout's wheel, and what its Containerfile runs to install it gives a Python with a
working Ansible, the tecrax.ops collection and the registered RExecOp profile.

No container engine runs here (so no image is built): the final stage's own COPY and RUN
lines are replayed against a fresh virtual environment instead of the image's Python."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

import tecrax

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]


@dataclass(frozen=True)
class Context:
    root: Path
    args: dict[str, str]  # the global ARG defaults
    stages: dict[str, list[str]]  # stage name -> its instructions, in order

    def wheels(self) -> list[Path]:
        return sorted((self.root / "_build" / "tecrax").glob("*.whl"))


def parse_containerfile(text: str) -> tuple[dict[str, str], dict[str, list[str]]]:
    args: dict[str, str] = {}
    stages: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in (line.strip() for line in text.splitlines()):
        if not line or line.startswith("#"):
            continue
        if match := re.fullmatch(r"FROM \S+ AS (\S+)", line):
            current = stages.setdefault(match.group(1), [])
        elif current is None:
            name, _, value = line.removeprefix("ARG ").partition("=")
            args[name] = value.strip('"')
        elif not line.startswith("ARG "):
            current.append(line)
    return args, stages


@pytest.fixture(scope="module")
def context(tmp_path_factory: pytest.TempPathFactory) -> Context:
    """The build context, made as docs/execution-environment.md says, from a copy of the definition."""
    work = tmp_path_factory.mktemp("ee")
    shutil.copy(REPO / "execution-environment.yml", work)
    subprocess.run([str(BIN / "pip"), "wheel", "--quiet", "--no-deps", "--wheel-dir", str(work / "dist" / "ee"), str(REPO)],
                   check=True, capture_output=True, text=True, timeout=600)
    created = subprocess.run(
        [str(BIN / "ansible-builder"), "create", "--file", "execution-environment.yml", "--context", "context",
         "--output-filename", "Containerfile"],
        cwd=work, capture_output=True, text=True, timeout=300, check=False)
    assert created.returncode == 0, created.stdout + created.stderr
    root = work / "context"
    args, stages = parse_containerfile((root / "Containerfile").read_text())
    return Context(root, args, stages)


def test_the_definition_is_format_3_and_restates_no_version() -> None:
    definition = yaml.safe_load((REPO / "execution-environment.yml").read_text())
    assert definition["version"] == 3
    text = json.dumps(definition)
    for pinned in ("rexecop", "govengine", "sclite", "ansible-core", "ansible-runner", tecrax.__version__):
        assert pinned not in text, f"{pinned}: the wheel is the one source of versions"


def test_the_context_carries_exactly_this_checkouts_wheel(context: Context) -> None:
    (wheel,) = context.wheels()
    assert wheel.name == f"tecrax-{tecrax.__version__}-py3-none-any.whl"
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        metadata = archive.read(f"tecrax-{tecrax.__version__}.dist-info/METADATA").decode()
        entry_points = archive.read(f"tecrax-{tecrax.__version__}.dist-info/entry_points.txt").decode()
        galaxy = yaml.safe_load(archive.read("ansible_collections/tecrax/ops/galaxy.yml"))
    required = {str(Requirement(line.split(":", 1)[1])) for line in metadata.splitlines()
                if line.startswith("Requires-Dist:") and "extra ==" not in line}
    assert required == {str(Requirement(spec)) for spec in PYPROJECT["dependencies"]}
    assert galaxy["version"] == tecrax.__version__
    for group in ("[rexecop.profiles]", "[rexecop.connector_backends]", "[rexecop.internal_actions]"):
        assert group in entry_points
    assert {"tecrax/_bundled/profile/profile.yaml", "ansible_collections/tecrax/ops/plugins/modules/host_inventory.py",
            "ansible_collections/tecrax/ops/playbooks/host_inventory.yml"} <= names


def test_the_images_python_is_one_tecrax_supports(context: Context) -> None:
    assert context.args["PKGMGR"].endswith("dnf")
    assert "RUN $PKGMGR install $PYPKG -y ; if [ -z $PKGMGR_PRESERVE_CACHE ]; then $PKGMGR clean all; fi" in context.stages["base"]
    version = re.fullmatch(r"/usr/bin/python(3\.\d+)", context.args["PYCMD"])
    assert version and context.args["PYPKG"] == f"python{version.group(1)}"
    assert version.group(1) in SpecifierSet(PYPROJECT["requires-python"])


def test_the_final_stage_installs_the_wheel_before_ansible_builder_checks_for_ansible(context: Context) -> None:
    final = context.stages["final"]
    install = [index for index, line in enumerate(final) if "pip install" in line and "tecrax-" in line]
    check = final.index("RUN /output/scripts/check_ansible $PYCMD")
    assert install and install[0] < check
    assert "openssh-clients [platform:rpm]" in (context.root / "_build" / "bindep.txt").read_text().splitlines()
    assert "RUN /output/scripts/install-from-bindep && rm -rf /output/wheels" in final


def replay_final_stage_install(context: Context, python: Path, image_root: Path) -> None:
    """Run the final stage's instructions up to ansible-builder's Ansible check with ``python``
    as $PYCMD and ``image_root`` standing for the image's filesystem root."""
    final = context.stages["final"]
    copied: dict[str, str] = {}
    for line in final[: final.index("RUN /output/scripts/check_ansible $PYCMD")]:
        instruction, _, rest = line.partition(" ")
        if instruction == "COPY":
            source, destination = rest.split()
            destination = destination.rstrip("/")
            shutil.copytree(context.root / source, image_root / destination.lstrip("/"))
            copied[destination] = f"{image_root}{destination}"
        elif instruction == "RUN":
            command = rest.replace("$PYCMD", str(python))
            for destination in sorted(copied, key=len, reverse=True):
                command = command.replace(destination, copied[destination])
            # Nothing outside the stand-ins may be touched (the step removes what it copied).
            outside = [word for word in command.split() if word.startswith("/")
                       and not word.startswith((f"{image_root}/", f"{python} ")) and word != str(python)]
            assert not outside, f"{line!r} names paths of the image that have no stand-in: {outside}"
            subprocess.run(["bash", "-c", command], check=True, capture_output=True, text=True, timeout=900)
        elif instruction not in {"ENV", "WORKDIR"}:
            raise AssertionError(f"no replay for {line!r}")


def test_what_the_final_stage_installs_runs_ansible_and_the_profile(context: Context, tmp_path: Path) -> None:
    venv = tmp_path / "image-python"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    image_root = tmp_path / "image-root"
    replay_final_stage_install(context, venv / "bin" / "python", image_root)
    assert not (image_root / "tmp" / "tecrax").exists(), "the install step leaves the wheel behind"

    env = {key: value for key, value in os.environ.items() if not key.startswith(("ANSIBLE_", "REXECOP_"))}
    env.update(ANSIBLE_HOME=str(tmp_path / "ansible-home"), ANSIBLE_NOCOLOR="1",
               PATH=f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}")

    def run(*argv: str) -> str:
        completed = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300, check=False)
        assert completed.returncode == 0, f"{argv}: {completed.stdout}{completed.stderr}"
        return completed.stdout

    run("pip", "check")
    assert run("ansible", "--version").startswith("ansible [core 2.19.")  # what check_ansible asks for
    assert run("ansible-runner", "--version").startswith("2.4.")
    doc = run("ansible-doc", "-t", "module", "tecrax.ops.host_inventory")
    assert doc.startswith(f"> MODULE tecrax.ops.host_inventory ({venv}/lib/")
    status = json.loads(run("tecrax", "status", "--json"))
    assert status["tecrax"] == tecrax.__version__ and all(status["registered"].values())
    assert status["versions"]["rexecop"] == "0.2.16a0"
    assert json.loads(run("rexecop", "profile", "lint", "--profile", "tecrax", "--track", "all"))["status"] == "passed"
