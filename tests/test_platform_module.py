"""The deployment folder `platform/` must never shadow the standard library's `platform`."""

import importlib
import subprocess
import sys
import sysconfig
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_platform_imports_the_standard_library_module_from_project_root():
    code = "import platform, uuid; print(platform.__file__); print(platform.system())"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    module_file, system = result.stdout.splitlines()
    assert Path(module_file).parent == Path(sysconfig.get_paths()["stdlib"])
    assert system == "Linux"


def test_platform_folder_holds_no_python():
    assert not list((ROOT / "platform").rglob("*.py"))
    assert importlib.import_module("platform").system() == "Linux"


def test_the_image_runs_as_an_unprivileged_user():
    lines = [
        line.split(None, 1)
        for line in (ROOT / "platform" / "Dockerfile").read_text().splitlines()
        if line and not line.startswith((" ", "#"))
    ]
    instructions = [instruction for instruction, *_ in lines]
    users = [arg.strip() for instruction, arg in lines if instruction == "USER"]
    # The last USER comes after every RUN and names neither root nor uid 0.
    assert users and users[-1].split(":")[0] not in {"root", "0"}
    last_user = len(instructions) - 1 - instructions[::-1].index("USER")
    assert "RUN" not in instructions[last_user:]
    assert "useradd" in (ROOT / "platform" / "Dockerfile").read_text()
