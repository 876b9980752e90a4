"""Property-based fuzzing of the whole API with schemathesis, against gunicorn on PostgreSQL.

Every operation of /api/openapi.json is called with generated valid and invalid input, in the examples,
coverage, fuzzing and stateful phases, with a key holding every scope. Every check schemathesis has must
pass except `positive_data_acceptance`: the registry refuses some bodies its schema admits on purpose
(special categories without an Art. 9 condition, a notice version that was never published), and those
answers are 422 with field messages, which the other checks verify.

The checks are named one by one rather than with `--checks all`, because "all" also turns on
`max_response_time` (a 10 s wall-clock limit per answer, which `--exclude-checks` cannot name): on a shared CI
machine that is a flake, and it says nothing about correctness.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable

import pytest
from deployment import Deployment

from privacy_service.security.service import SCOPES

pytestmark = pytest.mark.ops

# Bounded for CI: about 25 cases per operation and phase. Raise PRIVACY_FUZZ_EXAMPLES for a deeper run.
EXAMPLES = int(os.environ.get("PRIVACY_FUZZ_EXAMPLES", "25"))
SEED = os.environ.get("PRIVACY_FUZZ_SEED", "20261203")


def _correctness_checks() -> list[str]:
    """Every check the schemathesis CLI offers, except the one the module docstring explains."""
    import schemathesis.cli  # noqa: F401 - registers the built-in checks
    from schemathesis.checks import CHECKS

    names = sorted(set(CHECKS.get_all_names()) - {"positive_data_acceptance"})
    assert "not_a_server_error" in names and "response_schema_conformance" in names, names
    return names


def test_the_api_holds_its_schema_under_generated_input(make_deployment: Callable[..., Deployment]) -> None:
    deployment = make_deployment()
    deployment.demo(people=60)
    key = deployment.api_key(*SCOPES, name="fuzzer")
    server = deployment.serve(workers=2)
    report = deployment.root / "schemathesis.json"
    # A change to the registry without If-Match is answered 428 Precondition Required (RFC 6585 §3), the
    # status made for exactly that; schemathesis expects a 4xx of its own list unless told.
    (deployment.root / "schemathesis.toml").write_text(
        "[checks.missing_required_header]\n"
        'expected-statuses = ["400", "401", "403", "406", "415", "422", "428"]\n'
    )
    st = shutil.which("st") or shutil.which("schemathesis")
    assert st, "schemathesis is a test dependency: pip install -e '.[test]'"
    done = subprocess.run(
        [
            st,
            "run",
            f"{server.url}/api/openapi.json",
            "--header",
            f"Authorization: Bearer {key}",
            "--checks",
            ",".join(_correctness_checks()),
            "--max-examples",
            str(EXAMPLES),
            "--seed",
            SEED,
            "--workers",
            "1",
            "--request-timeout",
            "30",
            "--report",
            "json",
            "--report-json-path",
            str(report),
        ],
        capture_output=True,
        text=True,
        timeout=1200,
        cwd=deployment.root,  # its .schemathesis/ cache goes there, not into the checkout
        env={**os.environ, "NO_COLOR": "1", "SCHEMATHESIS_HOOKS": ""},
    )
    assert report.exists(), done.stdout[-5000:] + done.stderr[-5000:]
    result = json.loads(report.read_text())
    operations, cases = result["operations"], result["test_cases"]
    print(  # the figures for the closing note
        f"schemathesis: {operations['tested']}/{operations['total']} operations, "
        f"{cases['generated']} cases, {cases['unique_failures']} failures, phases "
        + ", ".join(f"{name} {phase['status']}" for name, phase in result["phases"].items())
    )
    assert done.returncode == 0, done.stdout[-20000:] + done.stderr[-5000:]
    assert result["failures"] == [] and result["errors"] == []
    assert operations["tested"] == operations["total"] > 40 and operations["skipped"] == 0
    assert cases["generated"] >= 25 * operations["total"]
    for name in ("coverage", "fuzzing", "stateful"):
        assert result["phases"][name]["status"] == "success", result["phases"]
    assert server.alive()
    log = server.log.read_text()
    assert "Traceback" not in log, log[-5000:]
