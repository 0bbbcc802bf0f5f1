"""The README, tried as a newcomer runs it: every command it shows runs in a test.

Every command and every table is documented; every shell command of the README is listed
in `RUNS` with how it is run — here, against the recording a headless `make run` leaves,
or by the test that drives it end to end — or, for the SDK recipes the README itself says
were not run, why not. A command added to the README without an entry fails this file.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.cookiejar import CookieJar
from pathlib import Path
from urllib.error import HTTPError
from urllib.request import HTTPCookieProcessor, build_opener, urlopen

import pytest

from proxy import store
from proxy.cli import commands
from tests.servers import HUBSCOPE, REPO, free_port, wait_until_responds

README = (REPO / "README.md").read_text()
VENV_HUBSCOPE = REPO / ".venv" / "bin" / "hubscope"
PREVIEW = REPO / "tests" / "rules" / "data" / "preview-era.json"
FCM_BODY = REPO / "tests" / "decode" / "data" / "fcm-registration.xml"


@pytest.mark.parametrize("name", sorted(commands()))
def test_commands_are_documented(name: str) -> None:
    assert f"### `hubscope {name}`" in README


@pytest.mark.parametrize("name", sorted(commands()))
def test_commands_have_help(name: str) -> None:
    assert commands()[name].help, f"hubscope {name} has no help"


def test_readme_starts_with_make_run_and_make_test() -> None:
    first_block = README.split("```")[1]
    assert re.findall(r"make \w+", first_block)[:2] == ["make run", "make test"]


def test_every_table_is_documented(tmp_path: Path) -> None:
    db = store.connect(tmp_path / "t.db")
    tables = [t for t in db.table_names() if not t.startswith("_") and "_fts" not in t]
    for table in tables:
        assert f"### `{table}`" in README, f"table {table} is not in the README"


def shell_commands(text: str = README) -> list[str]:
    """Every command of the README's ```sh blocks: continuations joined, comments dropped."""
    found: list[str] = []
    for block in re.findall(r"```sh\n(.*?)```", text, re.S):
        for raw in block.replace("\\\n", " ").splitlines():
            line = re.sub(r"\s{2,}#.*$", "", raw).strip()
            if not line or line.startswith("#"):
                continue
            if raw.startswith(" ") and line.startswith(("[", "--")) and found:
                found[-1] += f" {line}"  # a synopsis that goes on on the next line
            else:
                found.append(" ".join(line.split()))
    return found


# --- how each README command is run ---------------------------------------------------


def hubscope(*args: str, cwd: Path = REPO, stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:  # noqa: E501
    return subprocess.run([*HUBSCOPE, *args], cwd=cwd, input=stdin.decode() if stdin else None,
                          capture_output=True, text=True, timeout=180)  # fmt: skip


@dataclass
class Newcomer:
    """A folder where `make run` (headless) left its recording, named as the README names it."""

    home: Path
    session: str

    @property
    def db(self) -> Path:
        return self.home / "hubscope.db"


@pytest.fixture(scope="module")
def newcomer(tmp_path_factory: pytest.TempPathFactory) -> Newcomer:
    """`make run`, as the Makefile runs it, headless and on free ports, recording here."""
    home = tmp_path_factory.mktemp("newcomer")
    quiet = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")}
    planned = subprocess.run(["make", "--no-print-directory", "-n", "run"], cwd=REPO, env=quiet,
                             capture_output=True, text=True)  # fmt: skip
    [line] = [x for x in planned.stdout.splitlines() if "hubscope" in x]
    command = line.split()
    assert Path(command[0]).name == "hubscope" and command[1:] == ["demo"], planned.stdout
    hubscope_bin = REPO / command[0] if VENV_HUBSCOPE.exists() else None
    args = ["--headless", "--db", str(home / "hubscope.db"), "--hub-port", "0",
            "--proxy-port", "0", "--viewer-port", "0"]  # fmt: skip
    run = [str(hubscope_bin), "demo", *args] if hubscope_bin else [*HUBSCOPE, "demo", *args]
    result = subprocess.run(run, cwd=home, capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stdout + result.stderr
    [session] = re.findall(r"\(session (demo-[\d-]+)\)", result.stdout)[:1]
    return Newcomer(home=home, session=session)


@dataclass(frozen=True)
class Elsewhere:
    """Run end to end by another test, which must exist and do what the README shows."""

    test: str
    shows: str
    """A regular expression the test's source matches where it runs the command."""


@dataclass(frozen=True)
class NotRun:
    """The README says, next to the command, that it is not run (`says`)."""

    says: str


Runner = Callable[[Newcomer, Path], None]


def run_make_run(newcomer: Newcomer, tmp: Path) -> None:
    conn = store.connect(newcomer.db, readonly=True)
    kinds = {r["kind"] for r in conn.query("select kind from sessions")}
    ops = {r["operation"] for r in conn.query("select distinct operation from exchanges")}
    conn.conn.close()
    assert kinds == {"demo"} and {"create_registration", "send"} <= ops


def run_venv_help(newcomer: Newcomer, tmp: Path) -> None:
    result = subprocess.run([".venv/bin/hubscope", "--help"], cwd=REPO, capture_output=True,
                            text=True, timeout=60)  # fmt: skip
    assert result.returncode == 0 and "Usage: hubscope" in result.stdout


def run_activate(newcomer: Newcomer, tmp: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    env["PATH"] = "/usr/local/bin:/usr/bin:/bin"  # a new shell: no hubscope on PATH
    assert shutil.which("hubscope", path=env["PATH"]) is None
    shell = ". .venv/bin/activate && hubscope --version"
    result = subprocess.run(["bash", "-c", shell], cwd=REPO, env=env, capture_output=True,
                            text=True, timeout=60)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("hubscope, version ")


def run_pipx(newcomer: Newcomer, tmp: Path) -> None:
    clone = tmp / "clone"  # `pipx install .` from a copy, so the build leaves the repo clean
    listed = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True)
    for name in listed.stdout.splitlines():
        if name.startswith(("proxy/", "viewer/")) or name in ("pyproject.toml", "README.md"):
            (clone / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, clone / name)
    env = {**os.environ, "PIPX_HOME": str(tmp / "pipx"), "PIPX_BIN_DIR": str(tmp / "bin"),
           "PIPX_MAN_DIR": str(tmp / "man")}  # fmt: skip
    result = subprocess.run([sys.executable, "-m", "pipx", "install", "."], cwd=clone, env=env,
                            capture_output=True, text=True, timeout=600)  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    version = subprocess.run([str(tmp / "bin" / "hubscope"), "--version"], capture_output=True,
                             text=True, timeout=60)  # fmt: skip
    assert version.stdout.startswith("hubscope, version ")


def serving(args: list[str], cwd: Path, url: str) -> Iterator[str]:
    """Start `hubscope ARGS`, wait until `url` answers, yield its output so far, stop it."""
    log = cwd / f"out-{free_port()}.txt"
    with log.open("wb") as out:
        proc = subprocess.Popen([*HUBSCOPE, *args], cwd=cwd, stdout=out, stderr=subprocess.STDOUT)
        try:
            wait_until_responds(url, proc=proc)
            yield log.read_text()
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=60)


def run_proxy(newcomer: Newcomer, tmp: Path) -> None:
    http, https = free_port(), free_port()
    cs = ("Endpoint=sb://mynamespace.servicebus.windows.net/;SharedAccessKeyName="
          "DefaultFullSharedAccessSignature;SharedAccessKey=a2V5")  # fmt: skip
    args = ["proxy", "--connection-string", cs, "--tls", "--listen", f"127.0.0.1:{http}",
            "--tls-listen", f"127.0.0.1:{https}"]  # fmt: skip
    for banner in serving(args, tmp, f"http://127.0.0.1:{http}/"):
        assert "https://mynamespace.servicebus.windows.net" in banner
    assert store.is_hubscope(store.sqlite_tables(tmp / "hubscope.db") or [])


def run_forward(newcomer: Newcomer, tmp: Path) -> None:
    port = free_port()
    args = ["proxy", "--forward", "--db", "hubscope.db", "--listen", f"127.0.0.1:{port}"]
    for banner in serving(args, tmp, f"http://127.0.0.1:{port}/"):
        assert "forward" in banner.lower()
    assert store.is_hubscope(store.sqlite_tables(tmp / "hubscope.db") or [])


def run_demo(newcomer: Newcomer, tmp: Path) -> None:
    ports = [str(free_port()) for _ in range(3)]
    args = ["demo", "--db", "hubscope-demo.db", "--hub-port", ports[0], "--proxy-port",
            ports[1], "--viewer-port", ports[2], "--headless"]  # fmt: skip
    result = hubscope(*args, cwd=tmp)
    assert result.returncode == 0, result.stderr
    assert "hubscope view --db hubscope-demo.db" in result.stdout


def run_hub(newcomer: Newcomer, tmp: Path) -> None:
    port, tls = free_port(), free_port()
    cs = "Endpoint=sb://x/;SharedAccessKeyName=Full;SharedAccessKey=a2V5LWtleS1rZXk="
    args = ["hub", "--listen", f"127.0.0.1:{port}", "--connection-string", cs, "--db",
            "hub.db", "--hub", "myhub", "--hub", "other", "--tls",
            "--tls-listen", f"127.0.0.1:{tls}", "--allow-unknown-hubs", "--init",
            "--registration-ttl", "P90DT1.5S", "--expired-handle", "h1",
            "--expired-handle", "h2"]  # fmt: skip
    for banner in serving(args, tmp, f"http://127.0.0.1:{port}/"):
        assert "hubs           myhub, other" in banner and "storage        hub.db" in banner
        assert "registrations  expire P90DT1.5S after each write" in banner
        assert "expired by PNS 2 handle(s)" in banner
    assert set(store.sqlite_tables(tmp / "hub.db") or []) == {"registrations", "installations"}


def run_audit(newcomer: Newcomer, tmp: Path) -> None:
    for fmt, fail_on, status in (("text", "error", 1), ("json", "warning", 1),
                                 ("markdown", "never", 0)):  # fmt: skip
        result = hubscope("audit", "--db", "hubscope.db", "--session", newcomer.session,
                          "--format", fmt, "--fail-on", fail_on, cwd=newcomer.home)  # fmt: skip
        assert result.returncode == status, (fmt, fail_on, result.stderr)
        if fmt == "json":
            findings = json.loads(result.stdout)["findings"]
            assert all(f["docs"].startswith("docs/spec-rules.md#") for f in findings)


HUB_CS = "Endpoint=sb://127.0.0.1:9/;SharedAccessKeyName=Full;SharedAccessKey=a2V5"
TOKEN = "a-viewer-token-of-24-chars"


def first_exchange(newcomer: Newcomer, operation: str) -> str:
    conn = store.connect(newcomer.db, readonly=True)
    try:
        row = next(conn.query("select id from exchanges where operation = ? order by started_at",
                              [operation]))  # fmt: skip
    finally:
        conn.conn.close()
    return str(row["id"])


def run_view(newcomer: Newcomer, tmp: Path) -> None:
    port = free_port()
    args = ["view", "--db", str(newcomer.db), "--listen", f"127.0.0.1:{port}", "--token", TOKEN,
            "--connection-string", HUB_CS, "--target", "http://127.0.0.1:9",
            "--no-index"]  # fmt: skip
    browser = build_opener(HTTPCookieProcessor(CookieJar()))  # keeps the viewer's cookie
    for _ in serving(args, tmp, f"http://127.0.0.1:{port}/?token={TOKEN}"):
        with browser.open(f"http://127.0.0.1:{port}/?token={TOKEN}", timeout=30) as page:
            assert page.status == 200
        with pytest.raises(HTTPError) as refused:
            urlopen(f"http://127.0.0.1:{port}/", timeout=30)
        assert refused.value.code == 401
        refused.value.close()


def run_targets(newcomer: Newcomer, tmp: Path) -> None:
    base = ["targets", "--db", "hubscope.db", "--session", newcomer.session, "--hub", "demohub"]
    for output in ("text", "json"):
        result = hubscope(*base, "--at", "2999-01-01T00:00:00Z", "--expr", "user:42",
                          "--format", "apple", "--explain", "user:42-not-a-device",
                          "--output", output, cwd=newcomer.home)  # fmt: skip
        assert result.returncode in (0, 1), result.stderr
    everyone = hubscope(*base, "--format", "template", "--output", "json", cwd=newcomer.home)
    assert everyone.returncode == 0, everyone.stderr
    assert json.loads(everyone.stdout)


def run_export(newcomer: Newcomer, tmp: Path) -> None:
    for fmt, name in (("har", "out.har"), ("jsonl", "out.jsonl")):
        result = hubscope("export", "--db", str(newcomer.db), "--session", newcomer.session,
                          "--filter", "status:4xx", "--format", fmt, "-o", name,
                          "--mask", "handles,tags,ids", cwd=tmp)  # fmt: skip
        assert result.returncode == 0, result.stderr
        assert (tmp / name).stat().st_size > 0


def run_curl(newcomer: Newcomer, tmp: Path) -> None:
    exchange = first_exchange(newcomer, "create_registration")[-8:]  # the random end
    result = hubscope("curl", exchange, "--db", "hubscope.db", "--connection-string", HUB_CS,
                      "--target", "http://127.0.0.1:9", "--ttl", "60",
                      cwd=newcomer.home)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("curl") and "http://127.0.0.1:9/" in result.stdout


def run_resend(newcomer: Newcomer, tmp: Path) -> None:
    exchange = first_exchange(newcomer, "create_registration")
    port = free_port()
    for banner in serving(["hub", "--listen", f"127.0.0.1:{port}", "--hub", "demohub"], tmp,
                          f"http://127.0.0.1:{port}/"):  # fmt: skip
        printed = re.findall(r"Endpoint=sb://\S+", banner)[0]
        result = subprocess.run(
            [*HUBSCOPE, "resend", exchange, "--db", "hubscope.db", "--connection-string",
             printed, "--target", f"http://127.0.0.1:{port}", "--edit", "--json",
             "--timeout", "30"],
            cwd=newcomer.home, env={**os.environ, "EDITOR": "true"}, capture_output=True,
            text=True, timeout=120,
        )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["status"] == 200


def run_replay(newcomer: Newcomer, tmp: Path) -> None:
    cs = "Endpoint=sb://other.servicebus.windows.net/;SharedAccessKeyName=Full;SharedAccessKey=k"
    planned = hubscope("replay", "--db", "hubscope.db", "--session", newcomer.session,
                       "--target", "https://other.servicebus.windows.net",
                       "--connection-string", cs, "--hub", "otherhub",
                       "--only", "create_registration", "--dry-run", "--delay", "none",
                       cwd=newcomer.home)  # fmt: skip
    assert planned.returncode == 0, planned.stderr
    assert "https://other.servicebus.windows.net/otherhub/registrations" in planned.stdout
    assert "nothing was sent" in planned.stdout
    port = free_port()  # and for real, to the stand-in hub, with the endpoint it prints
    for banner in serving(["hub", "--listen", f"127.0.0.1:{port}", "--hub", "demohub"], tmp,
                          f"http://127.0.0.1:{port}/"):  # fmt: skip
        printed = re.findall(r"Endpoint=sb://\S+", banner)[0]
        result = hubscope("replay", "--db", "hubscope.db", "--session", newcomer.session,
                          "--connection-string", printed, "--json", cwd=newcomer.home)  # fmt: skip
    report = json.loads(result.stdout)
    summary = report["summary"]
    assert summary["failed"] == 0 and summary["total"] > 30
    assert summary["same"] > summary["total"] * 0.8, summary  # the stand-in hub answers alike
    assert report["target"] == f"http://127.0.0.1:{port}"
    assert result.returncode == (0 if report["summary"]["different"] == 0 else 1)


def run_import(newcomer: Newcomer, tmp: Path) -> None:
    foreign = tmp / "other.db"
    conn = sqlite3.connect(foreign)
    conn.execute("create table notes (x)")
    conn.commit()
    conn.close()
    result = hubscope("import", str(PREVIEW), "--db", str(foreign), "--session", "preview",
                      "--init", cwd=newcomer.home)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "14 exchanges → session preview" in result.stdout


def run_decode_file(newcomer: Newcomer, tmp: Path) -> None:
    result = hubscope("decode", str(FCM_BODY), "--content-type", "application/atom+xml",
                      "--method", "POST", "--url", "/myhub/registrations")  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["devices"][0]["platform"] == "gcm"
    answer = b"<Error><Code>401</Code><Detail>ExpiredToken</Detail></Error>"
    (tmp / "answer.xml").write_bytes(answer)
    assert hubscope("decode", str(tmp / "answer.xml"), "--response").returncode == 0


def run_decode_stdin(newcomer: Newcomer, tmp: Path) -> None:
    result = hubscope("decode", "-", stdin=FCM_BODY.read_bytes())
    assert result.returncode == 0 and json.loads(result.stdout)["devices"]


def run_decode_db(newcomer: Newcomer, tmp: Path) -> None:
    result = hubscope("decode", "--db", "hubscope.db", "--session", newcomer.session,
                      cwd=newcomer.home)  # fmt: skip
    assert result.returncode == 0 and re.match(r"re-decoded \d+ exchanges", result.stdout)


RUNS: dict[str, Runner | Elsewhere | NotRun] = {
    "make run": run_make_run,
    "make test": Elsewhere("tests/test_docs.py", "this suite: make test runs lint and pytest"),
    ".venv/bin/hubscope --help": run_venv_help,
    ". .venv/bin/activate": run_activate,
    "hubscope --version": run_activate,
    "pipx install .": run_pipx,
    "make mutation": NotRun("(not in CI)"),
    "hubscope proxy --forward --db hubscope.db": run_forward,
    'HTTPS_PROXY=http://127.0.0.1:8080 NODE_EXTRA_CA_CERTS="$(hubscope ca --path)" node app.mjs':
        Elsewhere("tests/e2e/test_sdk_forward.py", "NODE_EXTRA_CA_CERTS"),
    'hubscope hub --listen 127.0.0.1:8082 --connection-string "$APP_CONNECTION_STRING"':
        Elsewhere("tests/e2e/test_sdk_forward.py", r'hub_args = \[\s*"hub",\s*"--listen"'),
    "hubscope proxy --forward --map-remote mynamespace.servicebus.windows.net="
    "http://127.0.0.1:8082": Elsewhere(
        "tests/e2e/test_sdk_forward.py", r'"--forward",.*"--map-remote",'
    ),
    'hubscope proxy --connection-string "Endpoint=sb://mynamespace.servicebus.windows.net/;'
    'SharedAccessKeyName=DefaultFullSharedAccessSignature;SharedAccessKey=…" --tls': run_proxy,
    'NODE_EXTRA_CA_CERTS="$(hubscope ca --path)" node app.mjs': Elsewhere(
        "tests/e2e/test_sdk_tls.py", "NODE_EXTRA_CA_CERTS"
    ),
    'SSL_CERT_FILE="$(hubscope ca --path)" python app.py': Elsewhere(
        "tests/e2e/test_sdk_tls.py", "SSL_CERT_FILE"
    ),
    'keytool -importcert -noprompt -alias hubscope -file "$(hubscope ca --path)" -keystore '
    "hubscope.p12 -storetype PKCS12 -storepass changeit": NotRun("not run"),
    "java -Djavax.net.ssl.trustStore=hubscope.p12 -Djavax.net.ssl.trustStorePassword=changeit "
    "-jar app.jar": NotRun("not run"),
    "hubscope demo [--db hubscope-demo.db] [--hub-port 8082] [--proxy-port 8080] "
    "[--viewer-port 8081] [--headless]": run_demo,
    "hubscope hub [--listen 127.0.0.1:8082] [--connection-string CS] [--db hub.db] [--init] "
    "[--hub NAME]… [--tls] [--allow-unknown-hubs] [--registration-ttl DURATION] "
    "[--expired-handle HANDLE]… [-v]": run_hub,
    "hubscope audit --db hubscope.db [--session S] [--format text|json|markdown] "
    "[--fail-on error|warning|never]": run_audit,
    "hubscope view --db hubscope.db [--listen 127.0.0.1:8081] [--token T] "
    "[--connection-string CS] [--target URL] [--no-index]": run_view,
    "hubscope targets --db hubscope.db [--session S] [--hub NAME] [--at TIME] [--expr 'EXPR'] "
    "[--format apple|gcm|fcmv1|windows|windowsphone|adm|baidu|browser|xiaomi|nokiax|template] "
    "[--explain HANDLE_OR_INSTALLATION_OR_REGISTRATION_ID] [--output text|json]": run_targets,
    "hubscope export --db hubscope.db [--session S] [--filter EXPR] [--format har|jsonl] "
    "[-o FILE] [--mask handles,tags,ids]": run_export,
    "hubscope curl EXCHANGE_ID --db hubscope.db [--connection-string CS] [--target URL] "
    "[--ttl SECONDS]": run_curl,
    "hubscope resend EXCHANGE_ID --db hubscope.db --connection-string CS [--target URL] "
    "[--edit] [--json] [--timeout S]": run_resend,
    "hubscope replay --db hubscope.db --session S --target https://other.servicebus.windows.net "
    '--connection-string "Endpoint=…;SharedAccessKeyName=…;SharedAccessKey=…" [--hub NAME] '
    "[--only OPERATION…] [--dry-run] [--delay original|none|N]": run_replay,
    "hubscope import FILE… --db hubscope.db [--session NAME] [--init]": run_import,
    "hubscope decode FILE [--content-type CT] [--method M --url PATH] [--response]":
        run_decode_file,
    "hubscope decode - < body.xml": run_decode_stdin,
    "hubscope decode --db hubscope.db [--session S]": run_decode_db,
    "hubscope push --db hubscope.db --to postgresql://hubscope@db.internal:5432/hubscope "
    "[--session S]": Elsewhere(
        "tests/cli/test_push.py", r'push\("--db", str\(local\), "--to", postgres_url, "--session"'
    ),
    "hubscope proxy --upstream https://mynamespace.servicebus.windows.net --listen 0.0.0.0:8080 "
    "--db postgresql://hubscope_writer@db.internal:5432/hubscope --session staging": Elsewhere(
        "tests/recording/test_pg_target.py",
        r'"proxy",\s*"--upstream",\s*hub.url,.*"--db",\s*postgres_url,\s*"--session",\s*"staging"',
    ),
    "hubscope view --db postgresql://hubscope_reader@db.internal:5432/hubscope --listen "
    '0.0.0.0:8081 --token "$HUBSCOPE_VIEW_TOKEN"': Elsewhere(
        "tests/store/pg/test_grants.py", r'"view", "--db", reader, "--listen",.*"--token"'
    ),
    "hubscope audit --db postgresql://hubscope_reader@db.internal:5432/hubscope --session staging "
    "--fail-on error": Elsewhere(
        "tests/store/pg/test_grants.py",
        r'\["audit", "--db", reader, "--session", "staging", "--fail-on", "error"\]',
    ),
}  # fmt: skip


def test_every_readme_command_says_how_it_is_run() -> None:
    shown = shell_commands()
    assert len(shown) == len(set(shown))
    assert set(shown) == set(RUNS), {
        "in the README, not in RUNS": sorted(set(shown) - set(RUNS)),
        "in RUNS, not in the README": sorted(set(RUNS) - set(shown)),
    }


RUNNERS = sorted({(fn.__name__, fn) for fn in RUNS.values() if callable(fn)}, key=lambda x: x[0])


@pytest.mark.parametrize("runner", [fn for _, fn in RUNNERS], ids=[name for name, _ in RUNNERS])
def test_readme_command_runs(runner: Runner, newcomer: Newcomer, tmp_path: Path) -> None:
    runner(newcomer, tmp_path)


def test_commands_run_elsewhere_are_run_there() -> None:
    for command, how in RUNS.items():
        if isinstance(how, Elsewhere):
            source = (REPO / how.test).read_text()
            shown = re.search(how.shows, source, re.S)
            assert shown or how.test == "tests/test_docs.py", command
            assert (REPO / how.test).exists(), command
    makefile = (REPO / "Makefile").read_text()
    assert re.search(r"^test: .*lint pytest$", makefile, re.M)


def test_commands_not_run_say_so_in_the_readme() -> None:
    for command, how in RUNS.items():
        if isinstance(how, NotRun):
            at = README.index(command[:24])
            line = README[README.rfind("\n", 0, at) : README.find("\n", at)]
            recipe = README[max(README.rfind("\n**", 0, at), 0) : README.find("\n", at)]
            assert how.says in line or how.says in recipe, command


def test_the_readme_sql_runs_on_the_newcomers_recording(newcomer: Newcomer) -> None:
    [sql] = re.findall(r"```sql\n(.*?)```", README, re.S)
    conn = sqlite3.connect(f"file:{newcomer.db}?mode=ro", uri=True)
    try:
        rows = conn.execute(sql.strip().rstrip(";")).fetchall()
    finally:
        conn.close()
    assert rows, "the demo records installations tagged user:42"


def test_shell_commands_are_read_as_a_newcomer_reads_them() -> None:
    sample = "```sh\nmake run   # starts it\n# a comment\nhub \\\n  --db x\n```\n"
    assert shell_commands(sample) == ["make run", "hub --db x"]
    synopsis = "```sh\nhubscope hub [--a]\n             [--b]\n```\n"
    assert shell_commands(synopsis) == ["hubscope hub [--a] [--b]"]
