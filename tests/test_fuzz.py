"""Fuzzing the API from its own document: schemathesis generates valid and invalid calls for
every operation in /api/openapi.json, as each role, and every answer must be a non-5xx with a
status the document lists for that operation, and a body that matches what it says.

Bounded for `make test` (FUZZ_EXAMPLES per operation, role and mode); `make stress` runs the
same with many more examples.
"""

import os
from collections import Counter

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from werkzeug.test import Client

from server.extensions import db
from server.models import SelfReport
from tests.syncdata import crop, results, visit

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "12"))
ROLES = ("anonymous", "chengzi_cadre", "chengzi_supervisor", "town_supervisor", "admin")
# Signing out would leave the rest of a role's run anonymous; anonymous runs cover it.
SIGNED_IN_SKIPS = {("POST", "/api/logout")}
CHECKS = [status_code_conformance, response_schema_conformance, content_type_conformance]


def _credentials(app, login, role: str) -> tuple[dict, dict]:
    """(headers, cookies) of a signed-in role."""
    if role == "anonymous":
        return {}, {}
    signed_in = login(role)
    cookie = signed_in.client.get_cookie("session")
    return {"X-CSRF-Token": signed_in.csrf}, {"session": cookie.value}


def _fuzz(operation, roles: dict, mode, counts: Counter, problems: list) -> None:
    """Each generated case is sent as every role: generating is the slow part."""

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case):
        for role, (headers, cookies) in roles.items():
            if role != "anonymous" and (case.method.upper(), operation.path) in SIGNED_IN_SKIPS:
                continue
            _check(case, role, headers, cookies, counts, problems)

    try:
        run()
    except Unsatisfiable:  # nothing in this operation can be made invalid
        counts["unsatisfiable"] += 1


def _check(case, role: str, headers: dict, cookies: dict, counts: Counter, problems: list):
    # A fresh client and app context each call, as in production: a shared client keeps the
    # last answer's cookies, and a shared context the last caller (flask-login caches it in g).
    app = case.operation.app
    with app.app_context():
        response = case.call(session=Client(app), headers=headers, cookies=cookies)
    counts["calls"] += 1
    label = f"{role}: {case.method} {case.formatted_path} -> {response.status_code}"
    if response.status_code >= 500:
        counts["5xx"] += 1
        problems.append(f"5xx: {label}\n{case.as_curl_command()}")
        return
    try:
        case.validate_response(response, checks=CHECKS, headers=headers)
    except (Failure, FailureGroup) as mismatch:
        counts["mismatches"] += 1
        problems.append(f"mismatch: {label}: {str(mismatch)[:600]}")


def _something_in_every_answer(world, login) -> None:
    """A visit with a crop, a support measure and a self-report, so answers carry them."""
    (pushed,) = results(login("chengzi_cadre"), [visit(world.h_chengzi.id, crops=[crop()])])
    assert pushed["status"] == "created"
    office = login("admin")
    measure = {"kind": "dibao", "started_on": "2026-03-01", "amount_fen": 150000}
    assert (
        office.post(f"/api/households/{world.h_chengzi.id}/measures", json=measure).status_code
        == 201
    )
    report = SelfReport(
        reference="R00000001",
        household_id=world.h_chengzi.id,
        form_nonce="n" * 32,
        category="other",
        description="屋顶漏雨",
        priority=2,
    )
    db.session.add(report)
    db.session.commit()


def test_fuzzing_every_operation_as_every_role(app, world, login, summary):
    _something_in_every_answer(world, login)
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    roles = {role: _credentials(app, login, role) for role in ROLES}
    counts, problems = Counter(), []
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            _fuzz(operation, roles, mode, counts, problems)
    summary(
        f"fuzzing: {len(operations)} operations x {len(ROLES)} roles, {counts['calls']} calls, "
        f"{counts['5xx']} 5xx, {counts['mismatches']} mismatches with the document"
    )
    assert not problems, "\n\n".join(dict.fromkeys(problems))
