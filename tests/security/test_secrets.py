"""No secret in the repository.

Scans every file git tracks or would add (`git ls-files --cached --others --exclude-standard`)
for private keys, cloud and service tokens, long hex secrets, credentials inside URLs, and
secret-looking assignments (SECRET_KEY, passwords, tokens, API keys). Allowed: the documented
demo passwords (README, `make demo`), the development-only SECRET_KEY fallback that
config/settings.py uses only while DEBUG is on, and the placeholders of the example env file
and the compose topology.
"""

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)

DEV_SECRET_KEY = "dev-insecure-key-do-not-use-in-production"
ALLOWED_VALUES = {
    DEV_SECRET_KEY,
    "admin-demo-password",
    "learner-demo-password",
    "member-demo-password",
    "change-me-to-a-long-random-string",  # platform/env.example: a placeholder to replace
    "PASSWORD",  # EMAIL_URL's documented form, smtp://USER:PASSWORD@HOST:587
}
# (path, value): the made-up credentials that EMAIL_URL's parser is tested on.
ALLOWED_IN_FILE: set[tuple[str, str]] = {
    ("tests/core/test_email_url.py", value) for value in ("p%3Ass%2Fw", "hunter2-secret", "pw")
}

SECRET_NAME = (
    r"[A-Za-z0-9_]*"
    r"(?:SECRET|secret|PASSWORD|password|PASSWD|passwd|TOKEN|token|API_KEY|api_key)"
    r"[A-Za-z0-9_]*"
)
RULES = {
    "private key": re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY( BLOCK)?-----"),
    "AWS access key id": re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
    "AWS secret access key": re.compile(
        r"(?i)aws_?secret_?access_?key[\"']?\s*[:=]\s*[\"']?[A-Za-z0-9/+=]{40}"
    ),
    "GitHub token": re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{40,})"),
    "Slack token": re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}"),
    "Stripe or OpenAI style key": re.compile(r"\b(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}"),
    # A digest labelled with its algorithm (requirements.lock's `--hash=sha256:...`) is a
    # published package's checksum, not a secret.
    "long hex secret": re.compile(
        r"(?<!sha256:)(?<!sha384:)(?<!sha512:)(?<![0-9A-Za-z])[0-9a-fA-F]{32,}(?![0-9A-Za-z])"
    ),
}
# name = "literal" in any file (a whole literal: "prefix-" + random is generated, not stored),
# name: value / NAME=value in configuration files.
QUOTED_ASSIGNMENT = re.compile(
    rf"[\"']?\b{SECRET_NAME}\b[\"']?\s*[:=]\s*[\"']([^\"'\s]{{6,}})[\"'](?!\s*\+)"
)
CONFIG_ASSIGNMENT = re.compile(rf"^\s*-?\s*\b{SECRET_NAME}\b\s*[:=]\s*([^\s\"'#]{{6,}})", re.M)
URL_CREDENTIALS = re.compile(r"\b[a-z][a-z0-9+.-]*://[^/\s:@\"']+:([^@\s/\"']+)@")
CONFIG_SUFFIXES = (".env", ".example", ".yaml", ".yml", ".ini", ".cfg", ".toml", ".conf")
CONFIG_NAMES = {"Procfile", "Dockerfile", ".env"}


def _files() -> list[Path]:
    if not (ROOT / ".git").exists() or shutil.which("git") is None:
        pytest.skip("not a git checkout")
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT,
        check=True,
        capture_output=True,
    ).stdout.decode()
    return [ROOT / name for name in listed.split("\0") if name and (ROOT / name).is_file()]


def _text(path: Path) -> str | None:
    data = path.read_bytes()
    if b"\0" in data[:8192]:
        return None  # binary (gzip, images)
    return data.decode("utf-8", errors="replace")


def _is_config(relative: str) -> bool:
    name = relative.rsplit("/", 1)[-1]
    return name in CONFIG_NAMES or name.endswith(CONFIG_SUFFIXES) or name.startswith(".env")


def _findings(relative: str, text: str) -> list[str]:
    findings = [
        f"{relative}: {rule}: {match.group(0)[:60]}"
        for rule, pattern in RULES.items()
        for match in pattern.finditer(text)
    ]
    values = [match.group(1) for match in URL_CREDENTIALS.finditer(text)]
    # Test fixtures need passwords; keys and tokens are still refused there (rules above).
    if not relative.startswith("tests/"):
        values += [match.group(1) for match in QUOTED_ASSIGNMENT.finditer(text)]
        if _is_config(relative):
            values += [match.group(1) for match in CONFIG_ASSIGNMENT.finditer(text)]
    for value in values:
        if value in ALLOWED_VALUES or (relative, value) in ALLOWED_IN_FILE:
            continue
        if value.startswith(("$", "{{", "os.environ", "env(")):
            continue  # a reference to the environment or a template variable, not a value
        findings.append(f"{relative}: secret-looking value: {value[:60]}")
    return findings


def test_no_secret_in_the_repository():
    files = _files()
    assert any(path.name == "settings.py" for path in files)
    findings = []
    for path in files:
        text = _text(path)
        if text is not None:
            findings += _findings(path.relative_to(ROOT).as_posix(), text)
    assert findings == []


def test_the_dev_secret_key_is_the_only_literal_secret_key_in_settings():
    source = (ROOT / "config" / "settings.py").read_text()
    assert re.findall(r"SECRET_KEY\s*=\s*[\"']([^\"']*)[\"']", source) == [DEV_SECRET_KEY]
    # ...and it sits in the branch that raises unless DEBUG is on (test_deploy runs it).
    branch = source[source.index("if not SECRET_KEY:") : source.index(DEV_SECRET_KEY)]
    assert 'raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")' in branch


# The scanner itself: built at run time so that this file holds no match.
BEGIN, END = "-----BEGIN ", " PRIVATE KEY-----"


@pytest.mark.parametrize(
    ("relative", "text", "kind"),
    [
        ("config/keys.pem", BEGIN + "RSA" + END + "\nMIIEow...\n", "private key"),
        ("deploy/ssh.txt", BEGIN + "OPENSSH" + END, "private key"),
        ("notes.md", "key id " + "AKIA" + "Q3EXAMPLE7ABCDEF", "AWS access key id"),
        (
            "config/aws.ini",
            "aws_secret_access_key = " + "wJalrXUtnFEMI/K7MDENG/bPxRfiCY" + "A" * 10,
            "AWS secret access key",
        ),
        ("ci.yml", "token: " + "ghp_" + "a1B2" * 9, "GitHub token"),
        ("config/settings.py", "SIGNING = '" + "3f9a" * 10 + "'", "long hex secret"),
        ("requirements.lock", "--hash=md5:" + "3f9a" * 10, "long hex secret"),
        ("config/settings.py", 'SECRET_KEY = "' + "x7#k!q" * 5 + '"', "secret-looking value"),
        ("members/seed.py", 'ADMIN_PASSWORD = "' + "hunter22" + '"', "secret-looking value"),
        ("platform/prod.env", "DATABASE_PASSWORD=" + "s3cr3t-value", "secret-looking value"),
        (
            "platform/compose.yaml",
            "DATABASE_URL: postgres://app:" + "pa55word" + "@db/app",
            "secret-looking value",
        ),
        ("tests/fixtures.py", BEGIN + "EC" + END, "private key"),
    ],
)
def test_the_scanner_finds_planted_secrets(relative, text, kind):
    assert f"{relative}: {kind}: " in "\n".join(_findings(relative, text))


@pytest.mark.parametrize(
    ("relative", "text"),
    [
        ("config/settings.py", 'SECRET_KEY = os.environ.get("SECRET_KEY", "")'),
        ("config/settings.py", f'    SECRET_KEY = "{DEV_SECRET_KEY}"'),
        ("demo/seed.py", 'LEARNER_PASSWORD = "learner-demo-password"'),
        ("platform/env.example", "SECRET_KEY=change-me-to-a-long-random-string"),
        (
            "platform/compose.yaml",
            "POSTGRES_PASSWORD: ${POSTGRES_PASSWORD:?set it in platform/.env}",
        ),
        ("tests/factories.py", 'PASSWORD = "correct-horse-battery-staple"'),
        ("README.md", "`postgres://postgres@127.0.0.1:5432/skillpath`"),
        ("members/views.py", "password=form.cleaned_data['password1'],"),
        ("docs/walkthrough.py", 'password = "walk-the-api-" + uuid.uuid4().hex[:12]'),
        ("requirements.lock", "django==5.2.19 \\\n    --hash=sha256:" + "0a1b" * 16),
    ],
)
def test_the_scanner_allows_the_documented_values(relative, text):
    assert _findings(relative, text) == []
