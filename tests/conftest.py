"""Shared fixtures: a real PostgreSQL started by the tests, and a fresh database per test on both engines.

One PostgreSQL cluster serves the whole run. Under pytest-xdist the controller makes a run folder and hands
it to the workers (`pytest_configure_node`); the first worker that needs PostgreSQL starts the cluster there,
the others use it, and the controller stops it at the end. A run that needs no PostgreSQL (`-k sqlite`)
never starts it. Every worker names its databases after itself (`unique_dbname`).
"""

from __future__ import annotations

import itertools
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import psycopg
import pytest
from flask import Flask
from flask.testing import FlaskClient
from pgcluster import PostgresMissing, SharedCluster, unique_dbname
from tests_support import csrf_token

from privacy_service import close_app, create_app
from privacy_service.audit import Actor
from privacy_service.datamap.demo import create_demo_data
from privacy_service.db import make_engine, transaction
from privacy_service.migrate import upgrade
from privacy_service.policies import load_policies

REPO = Path(__file__).resolve().parent.parent
POLICIES = REPO / "policies"
ENGINES = ["sqlite", "postgresql"]
_counter = itertools.count()
_CLUSTER = pytest.StashKey[SharedCluster]()
_OWNER = pytest.StashKey[bool]()
_RUN_FOLDER = "privacy_pg_run"


@pytest.hookimpl(tryfirst=True)  # before xdist's own, which turns -n into workers
def pytest_cmdline_main(config: pytest.Config) -> None:
    """Spread the run over xdist workers unless told otherwise (`-n 0`, `-p no:xdist`)."""
    if not config.pluginmanager.hasplugin("xdist") or hasattr(config, "workerinput"):
        return
    if config.option.numprocesses is None:
        config.option.numprocesses = "auto"
    if config.option.dist == "no":
        # One test at a time to whichever worker is free: with the ops drills first (below) they spread
        # over the workers. Larger chunks, or `worksteal`'s slices, would hand one worker all of them.
        config.option.dist = "load"
        if config.option.maxschedchunk is None:
            config.option.maxschedchunk = 1


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Under xdist the process drills (over half a serial run's minutes, spent mostly waiting on their
    # processes) go first, so they overlap with the rest instead of meeting at the end. Serial runs keep
    # the files' order.
    if hasattr(config, "workerinput"):
        items.sort(key=lambda item: item.get_closest_marker("ops") is None)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    # CI runs everything: a test that skips there (a browser, a server or a package missing) fails the run
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if not os.environ.get("CI") or hasattr(session.config, "workerinput") or reporter is None:
        return
    skipped = reporter.stats.get("skipped", [])
    if skipped and exitstatus == pytest.ExitCode.OK:
        reporter.write("\n")
        reporter.write_sep("=", f"CI: {len(skipped)} test(s) skipped, and nothing may skip in CI", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_configure(config: pytest.Config) -> None:
    # A worker uses the controller's run folder; the controller, or a run without xdist, makes one and owns
    # it (and so the cluster in it), and stops it in pytest_unconfigure.
    given = getattr(config, "workerinput", {}).get(_RUN_FOLDER)
    root = Path(given) if given else Path(tempfile.mkdtemp(prefix="privacy-service-run-"))
    config.stash[_CLUSTER] = SharedCluster(root)
    config.stash[_OWNER] = not given


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """Hand the run folder, and with it the one PostgreSQL cluster, to each xdist worker."""
    node.workerinput[_RUN_FOLDER] = str(node.config.stash[_CLUSTER].root)


def pytest_unconfigure(config: pytest.Config) -> None:
    if config.stash.get(_OWNER, False):
        config.stash[_CLUSTER].stop()


@pytest.fixture(scope="session")
def pg_server(pytestconfig: pytest.Config) -> dict[str, Any]:
    """The run's PostgreSQL cluster, started on first use (the suite needs PostgreSQL; it never skips it)."""
    try:
        return pytestconfig.stash[_CLUSTER].server()
    except PostgresMissing as err:
        pytest.fail(str(err))


@pytest.fixture(scope="session", autouse=True)
def _default_instance_outside_the_checkout(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Point the default instance folder at the worker's tmp folder for the run.

    create_app reads the settings from the environment before the test's config: left at ./instance, each
    worker writes ./instance/secret_key in the checkout, and two racing to create it fail one of them.
    """
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PRIVACY_INSTANCE_PATH", str(tmp_path_factory.mktemp("default-instance")))
        yield


def _pg_url(server: dict[str, Any], dbname: str) -> str:
    return f"postgresql+psycopg://{server['user']}@{server['host']}:{server['port']}/{dbname}"


def _admin(server: dict[str, Any]) -> psycopg.Connection:
    return psycopg.connect(
        host=server["host"], port=server["port"], user=server["user"], dbname="postgres", autocommit=True
    )


def _prepare(url: str, instance: Path, with_policies: bool) -> None:
    engine = make_engine(url)
    try:
        upgrade(engine)
        if with_policies:
            with transaction(engine) as session:
                load_policies(session, root=POLICIES, instance_path=instance, actor=Actor("cli", "tests"))
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def templates(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> dict[str, Any]:
    """Databases migrated once per run (empty, and with the shipped policies loaded) that each test copies."""
    base = tmp_path_factory.mktemp("templates")
    out: dict[str, Any] = {"sqlite": {}, "postgresql": {}}
    for name, with_policies in (("empty", False), ("loaded", True)):
        path = base / f"{name}.db"
        _prepare(f"sqlite:///{path}", base, with_policies)
        out["sqlite"][name] = path
    return out


def _pg_templates(server: dict[str, Any], base: Path, cache: dict[str, Any]) -> dict[str, str]:
    if "pg" not in cache:
        names = {}
        with _admin(server) as conn:
            for name, with_policies in (("empty", False), ("loaded", True)):
                names[name] = unique_dbname(f"tmpl_{name}")
                conn.execute(f"CREATE DATABASE {names[name]}")
                _prepare(_pg_url(server, names[name]), base, with_policies)
        cache["pg"] = names
    return cache["pg"]


_PG_CACHE: dict[str, Any] = {}


@pytest.fixture(params=ENGINES)
def engine_name(request: pytest.FixtureRequest) -> str:
    """Run the test once on SQLite and once on PostgreSQL."""
    return request.param


@pytest.fixture
def make_db_url(
    engine_name: str,
    templates: dict[str, Any],
    tmp_path: Path,
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Callable[..., str]]:
    """Return a factory of fresh databases: make_db_url(template="loaded"|"empty")."""
    created: list[str] = []
    server = request.getfixturevalue("pg_server") if engine_name == "postgresql" else None

    def make(template: str = "loaded") -> str:
        if engine_name == "sqlite":
            path = tmp_path / f"db{next(_counter)}.db"
            shutil.copyfile(templates["sqlite"][template], path)
            return f"sqlite:///{path}"
        names = _pg_templates(server, tmp_path_factory.getbasetemp(), _PG_CACHE)
        dbname = unique_dbname("t")
        with _admin(server) as conn:
            conn.execute(f"CREATE DATABASE {dbname} TEMPLATE {names[template]}")
        created.append(dbname)
        return _pg_url(server, dbname)

    yield make
    if created and server:
        with _admin(server) as conn:
            for dbname in created:
                conn.execute(f"DROP DATABASE IF EXISTS {dbname} WITH (FORCE)")


@pytest.fixture
def make_app(make_db_url: Callable[..., str], tmp_path: Path) -> Iterator[Callable[..., Flask]]:
    """Return a factory of apps, each on its own fresh database."""
    apps: list[Flask] = []

    def make(template: str = "loaded", **config: Any) -> Flask:
        instance = tmp_path / f"instance{len(apps)}"
        instance.mkdir()
        app = create_app(
            {
                "TESTING": True,
                "SECRET_KEY": "test-secret",
                "SQLALCHEMY_DATABASE_URI": make_db_url(template),
                "PRIVACY_INSTANCE_PATH": str(instance),
                "PRIVACY_POLICIES": str(POLICIES),
                # the test receivers listen on http://127.0.0.1 (tests/isolation turns these off again)
                "PRIVACY_WEBHOOK_ALLOW_HTTP": True,
                "PRIVACY_WEBHOOK_ALLOW_PRIVATE": True,
                **config,
            }
        )
        apps.append(app)
        return app

    yield make
    for app in apps:
        close_app(app)


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    """An app on a fresh database holding the shipped policies."""
    return make_app()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> Any:
    return app.test_cli_runner()


@pytest.fixture
def db(app: Flask) -> Iterator[Any]:
    """A session on the app's database, rolled back at the end."""
    from sqlmodel import Session

    with app.app_context(), Session(app.extensions["engine"], expire_on_commit=False) as session:
        yield session


@pytest.fixture
def make_user(app: Flask) -> Callable[..., dict[str, str]]:
    """Create an officer: make_user(role="officer") -> {"username", "password"}."""
    from privacy_service.security.service import create_user

    def make(role: str = "officer", username: str | None = None) -> dict[str, str]:
        username = username or f"{role}{next(_counter)}"
        password = f"pw-{username}-long-enough"
        with app.app_context(), transaction(app.extensions["engine"]) as session:
            create_user(
                session,
                username=username,
                password=password,
                role=role,
                full_name=username,
                actor=Actor("cli", "tests"),
            )
        return {"username": username, "password": password}

    return make


@pytest.fixture
def make_key(app: Flask) -> Callable[..., str]:
    """Create an API client and return its key: make_key("registry:read", "registry:write")."""
    from privacy_service.security.service import create_api_client

    def make(*scopes: str, name: str | None = None) -> str:
        with app.app_context(), transaction(app.extensions["engine"]) as session:
            _, key = create_api_client(
                session,
                name=name or f"client{next(_counter)}",
                scopes=list(scopes),
                actor=Actor("cli", "tests"),
            )
        return key

    return make


@pytest.fixture
def login(client: FlaskClient, make_user: Callable[..., dict[str, str]]) -> Callable[[str], dict[str, str]]:
    """Log the test client in as a new user of the given role."""

    def do(role: str = "officer") -> dict[str, str]:
        user = make_user(role)
        token = csrf_token(client)
        resp = client.post("/login", data={**user, "csrf_token": token})
        assert resp.status_code == 302, resp.get_data(as_text=True)
        return user

    return do


@pytest.fixture
def demo(app: Flask) -> Path:
    """The demo data systems in the app's instance folder (Kari Nordmann is always there); retention and
    consent override it with their own seeds."""
    instance = Path(app.config["PRIVACY_INSTANCE_PATH"])
    create_demo_data(instance_path=instance, seed=7, people=40, anchor=date(2026, 11, 1))
    return instance
