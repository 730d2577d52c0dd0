"""The WSGI module loads the whole URLconf, then hides it from the garbage collector."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent

# Run in a child process: importing config.wsgi freezes the importing interpreter's heap.
PROBE = """
import gc, json, sys
import config.wsgi
from django.urls import get_resolver
resolver = get_resolver()
print(json.dumps({
    "frozen": gc.get_freeze_count(),
    "unfrozen": len(gc.get_objects()),
    "urlconf_loaded": "url_patterns" in resolver.__dict__,
    "views_imported": "recommendations.api" in sys.modules,
}))
"""


def test_wsgi_import_loads_the_urlconf_before_freezing_the_heap():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings"}
    env.pop("DATABASE_URL", None)
    result = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    probe = json.loads(result.stdout.splitlines()[-1])
    assert probe["urlconf_loaded"] is True
    assert probe["views_imported"] is True
    assert probe["frozen"] > 100_000
    # Only what the probe itself created since the freeze is left for the collector.
    assert probe["unfrozen"] < 1_000
