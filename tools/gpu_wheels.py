"""`make gpu-wheels`: download the wheels a GPU machine without internet lacks, so `make gpu-check` can run there.

The lent GPU machine has Python 3.12, torch and a long list of packages (``tools/gpu_image_packages.txt``),
and reaches no package index. This script resolves our pyprojects' requirements for that Python and platform,
drops what the image already holds (and what no GPU step needs, ``NOT_CARRIED``), and downloads exactly the
remaining wheels into ``.gpu-wheels/`` (git-ignored), which a GPU call then carries.

    python tools/gpu_wheels.py [--python-version 3.12] [--dest .gpu-wheels]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from gpu_registry import NOT_CARRIED, ROOT, distribution_name, load_registry, requirements

IMAGE_PACKAGES = ROOT / "tools" / "gpu_image_packages.txt"
# the manylinux tags of an x86-64 glibc 2.28+ machine; pip matches each tag exactly, so several are listed
PLATFORMS = ["manylinux_2_28_x86_64", "manylinux_2_27_x86_64", "manylinux_2_24_x86_64", "manylinux_2_17_x86_64",
             "manylinux2014_x86_64", "manylinux1_x86_64", "manylinux_2_5_x86_64"]
CARRY_LIMIT_MIB = 64


def image_packages(path: Path = IMAGE_PACKAGES) -> set[str]:
    """Names of what the GPU image holds (``name`` or ``name==version`` lines; versions are for people)."""
    lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
    return {distribution_name(line.partition("==")[0]) for line in lines if line and not line.startswith("#")}


def target_flags(python_version: str) -> list[str]:
    flags = ["--only-binary=:all:", "--python-version", python_version, "--implementation", "cp"]
    for platform in PLATFORMS:
        flags += ["--platform", platform]
    return flags


def resolve(reqs: list[str], python_version: str) -> dict[str, tuple[str, list[str]]]:
    """{name: (version, requires_dist)} of every distribution pip would install for ``reqs`` on the target,
    read from the index's metadata without downloading the wheels."""
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        cmd = [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--quiet",
               "--disable-pip-version-check", "--target", str(Path(tmp) / "t"), "--report", str(report),
               *target_flags(python_version), *reqs]
        res = subprocess.run(cmd, capture_output=True, text=True)
        if res.returncode != 0:
            raise RuntimeError(f"pip could not resolve the requirements for Python {python_version}:\n"
                               f"{res.stderr.strip()[-2000:]}")
        data = json.loads(report.read_text(encoding="utf-8"))
    return {distribution_name(i["metadata"]["name"]): (i["metadata"]["version"], i["metadata"].get("requires_dist")
                                                       or []) for i in data["install"]}


def lacking(reqs: list[str], resolved: dict[str, tuple[str, list[str]]], have: set[str],
            python_version: str) -> list[tuple[str, str]]:
    """The distributions reachable from ``reqs`` without passing through one the image has.

    A package on the image brings its own dependencies with it, so its requirements are not followed: this is
    what keeps, say, a newer transformers' dependencies out of the carried set.
    """
    from packaging.requirements import Requirement

    env = {"python_version": python_version, "python_full_version": f"{python_version}.0", "extra": "",
           "sys_platform": "linux", "platform_system": "Linux", "platform_machine": "x86_64",
           "implementation_name": "cpython", "platform_python_implementation": "CPython", "os_name": "posix"}
    todo, seen = [distribution_name(r) for r in reqs], set()
    while todo:
        name = todo.pop()
        if name in seen or name in have or name not in resolved:
            continue
        seen.add(name)
        for spec in resolved[name][1]:
            req = Requirement(spec)
            if req.marker is None or req.marker.evaluate(env):
                todo.append(distribution_name(req.name))
    return sorted((n, resolved[n][0]) for n in seen)


def download(pins: list[str], dest: Path, python_version: str) -> None:
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "--disable-pip-version-check",
           "-d", str(dest), *target_flags(python_version), *pins]
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode != 0:
        raise RuntimeError(f"pip download failed:\n{res.stderr.strip()[-2000:]}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--dest", type=Path, default=ROOT / ".gpu-wheels")
    p.add_argument("--python-version", default="3.12", help="the GPU machine's Python (3.12 on the lent H200)")
    p.add_argument("--image-packages", type=Path, default=IMAGE_PACKAGES,
                   help="what the target machine already holds, one name (or name==version) a line")
    args = p.parse_args(argv)
    reqs = [r for r in requirements(load_registry()) if distribution_name(r) not in NOT_CARRIED]
    have = image_packages(args.image_packages)
    try:
        resolved = resolve(reqs, args.python_version)
    except RuntimeError as exc:
        print(f"gpu-wheels: {exc}", file=sys.stderr)
        return 1
    carry = lacking(reqs, resolved, have, args.python_version)
    print(f"gpu-wheels: {len(resolved)} distributions resolved, {len(carry)} of them lacking on the image: "
          f"{', '.join(f'{n}=={v}' for n, v in carry)}")
    args.dest.mkdir(parents=True, exist_ok=True)
    for old in args.dest.glob("*.whl"):  # a rerun replaces the set, so two versions of one package never travel
        old.unlink()
    try:
        download([f"{n}=={v}" for n, v in carry], args.dest, args.python_version)
    except RuntimeError as exc:
        print(f"gpu-wheels: {exc}", file=sys.stderr)
        return 1
    wheels = sorted(args.dest.glob("*.whl"))
    mib = sum(w.stat().st_size for w in wheels) / 2**20
    manifest = [f"# made by tools/gpu_wheels.py for Python {args.python_version}; {len(wheels)} wheels, {mib:.1f} MiB",
                *(f"# not carried: {n} ({why})" for n, why in NOT_CARRIED.items()), *(w.name for w in wheels)]
    (args.dest / "MANIFEST.txt").write_text("\n".join(manifest) + "\n", encoding="utf-8")
    print(f"gpu-wheels: {len(wheels)} wheels, {mib:.1f} MiB in {args.dest}")
    if mib > CARRY_LIMIT_MIB - 8:
        print(f"gpu-wheels: warning: {mib:.0f} MiB leaves little of the {CARRY_LIMIT_MIB} MiB a GPU call carries",
              file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
