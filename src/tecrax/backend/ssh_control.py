"""SSH connection reuse across runs: one ControlPersist master per target and trust settings.

A governed run starts a fresh ansible-playbook, so without reuse every run pays a full SSH
handshake (key exchange and public key authentication: about 0.2 s on a LAN). With
``ControlMaster=auto`` the first run's ssh client leaves a master connection in the
background for ``ssh_control_persist_seconds`` after its last use, and later runs to the same
target send their session through it.

What keeps the reuse safe:

- The control directory belongs to the user running tecrax (``$XDG_RUNTIME_DIR/tecrax-ssh``,
  else ``~/.cache/tecrax-ssh``), mode 0700; ssh makes each socket 0600. A directory that is a
  symlink, owned by someone else or open to others, under a parent others may write, is not
  used: the run then connects without a master, as it did before reuse existed.
- A socket is named by ssh's ``%C`` (local host, remote host, port, user) *and* a digest of
  everything the connection was trusted on: the known_hosts file's path and content, the
  identity (key file path and its inode, size and mtime, or a digest of the key material) and
  every other ssh option. A run whose settings differ in any of these (another key, a
  known_hosts file that changed, a host key removed from it) gets a socket of its own, so its
  first connection authenticates and checks the host key again: strict host key checking
  still applies to every connection that is made, and a master is only reused by runs that
  would have trusted it on the same terms.
- ssh itself removes a stale socket (a master that was killed) and connects afresh; a master
  ends when its connection dies (the keepalives give it up after about 15 s) or when it has
  been idle for the persist time. A cancelled or timed-out run ends the master it started
  with its other processes (the master inherits the run's ``TECRAX_RUN_DIR`` marker).
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Mapping
from pathlib import Path

# sun_path holds 108 bytes with its NUL; ssh first binds "<ControlPath>.<16 random chars>".
MAX_SOCKET_PATH = 107 - 17
SSH_HASH_CHARS = 40  # %C is a SHA-1 in hex
DIGEST_CHARS = 20
DIRECTORY_NAME = "tecrax-ssh"


def control_options(
    options: Mapping[str, str],
    *,
    persist_seconds: int,
    known_hosts_file: str | None,
    identity_file: str | None = None,
    key_material: str | None = None,
    directory: Path | None = None,
) -> dict[str, str]:
    """The ``Control*`` ssh options for connections made with ``options``: a master reused by
    runs with the same trust settings, or none (``ControlMaster=no``) when ``persist_seconds``
    is 0 or no safe control directory exists."""
    if persist_seconds <= 0:
        return {"ControlMaster": "no"}
    directory = directory if directory is not None else control_directory()
    if directory is None:
        return {"ControlMaster": "no"}
    digest = trust_digest(options, known_hosts_file=known_hosts_file, identity_file=identity_file,
                          key_material=key_material)
    path = f"{directory}/{digest}-%C"
    if len(path) - len("%C") + SSH_HASH_CHARS > MAX_SOCKET_PATH:
        return {"ControlMaster": "no"}
    return {"ControlMaster": "auto", "ControlPersist": f"{persist_seconds}s", "ControlPath": path}


def trust_digest(
    options: Mapping[str, str],
    *,
    known_hosts_file: str | None,
    identity_file: str | None = None,
    key_material: str | None = None,
) -> str:
    """A short digest of what a connection is trusted on; any change gives another socket."""
    digest = hashlib.sha256()
    for key in sorted(options):
        digest.update(f"option {key}={options[key]}\0".encode())
    digest.update(b"known_hosts " + _file_identity(known_hosts_file, with_content=True) + b"\0")
    digest.update(b"identity " + _file_identity(identity_file, with_content=False) + b"\0")
    if key_material is not None:
        digest.update(b"key_material " + hashlib.sha256(key_material.encode()).digest() + b"\0")
    return digest.hexdigest()[:DIGEST_CHARS]


def _file_identity(path: str | None, *, with_content: bool) -> bytes:
    """The path plus what changes when the file is replaced or edited: its content digest
    (known_hosts), or its device, inode, size and mtime (a private key, which is not read)."""
    if path is None:
        return b"-"
    try:
        info = os.stat(path)
        detail = (
            hashlib.sha256(Path(path).read_bytes()).hexdigest()
            if with_content
            else f"{info.st_dev}:{info.st_ino}:{info.st_size}:{info.st_mtime_ns}"
        )
    except OSError as exc:
        detail = f"unreadable:{exc.errno}"
    return f"{path}\0{detail}".encode()


def control_directory() -> Path | None:
    """The user's private control directory, created if missing; None when it is not safe."""
    runtime_dir = os.environ.get("XDG_RUNTIME_DIR", "")
    if runtime_dir.startswith("/") and _safe_directory(Path(runtime_dir)):
        parent = Path(runtime_dir)
    else:
        try:
            parent = Path.home() / ".cache"
            parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        except (OSError, RuntimeError):
            return None
        if not _safe_parent(parent):
            return None
    directory = parent / DIRECTORY_NAME
    try:
        directory.mkdir(mode=0o700, exist_ok=True)
        info = directory.lstat()
        if stat.S_ISDIR(info.st_mode) and info.st_uid == os.geteuid() and info.st_mode & 0o077:
            directory.chmod(0o700)
    except OSError:
        return None
    return directory if _safe_directory(directory) else None


def _safe_directory(path: Path) -> bool:
    """A real directory (not a symlink) of this user that nobody else may enter."""
    try:
        info = path.lstat()
    except OSError:
        return False
    return stat.S_ISDIR(info.st_mode) and info.st_uid == os.geteuid() and not info.st_mode & 0o077


def _safe_parent(path: Path) -> bool:
    """Owned by this user or root and writable by neither group nor others, so nobody else
    can swap the control directory inside it."""
    try:
        info = path.lstat()
    except OSError:
        return False
    return (
        stat.S_ISDIR(info.st_mode)
        and info.st_uid in (os.geteuid(), 0)
        and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
    )
