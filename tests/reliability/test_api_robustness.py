"""Suite test 9, API robustness: schemathesis generates requests from the OpenAPI document
the gateway serves (``/api/v1/openapi.json``) and sends them over TLS to the running
gateway, once without credentials and once with a customer's session cookie and CSRF header.

Checks on every answer: no server error, the answer's status and JSON body as the document
declares them, and, without credentials, no success on an operation the document protects.
The API knows no bearer token of its own (the Prometheus scrape token of ``/metrics`` lies
outside ``/api/v1`` and is covered by the console's role matrix). Examples per operation:
:func:`~tests.reliability.report.pick` (smoke in ``make test``, more in ``make soak``)."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import (
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core.failures import FailureGroup
from schemathesis.core.result import Err

from tests.reliability.report import pick, record
from tests.support.gateway import gateway_harness
from tunnel.clock import ManualClock

pytestmark = pytest.mark.timeout(pick(600, 3600))

EXAMPLES = int(os.environ.get("API_EXAMPLES", "0")) or pick(8, 100)
"""Generated requests per operation and visitor (``API_EXAMPLES`` overrides, to dig)."""
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    response_schema_conformance,
]


@dataclass
class Findings:
    """What one visitor's run found: per operation, the distinct failure messages."""

    requests: int = 0
    failures: dict[str, set[str]] = field(default_factory=dict)

    def add(self, label: str, message: str) -> None:
        self.failures.setdefault(label, set()).add(message.strip().splitlines()[0][:300])


def _protected(operation: Any, document: Mapping[str, Any]) -> bool:
    security = operation.definition.raw.get("security", document.get("security", []))
    return bool(security) and all(requirement for requirement in security)


@dataclass
class Visit:
    """Who sends the generated requests, and what was found."""

    base_url: str
    http: requests.Session
    headers: dict[str, str]
    anonymous: bool
    findings: Findings = field(default_factory=Findings)


def _fuzz(operation: Any, protected: bool, visit: Visit) -> None:
    findings = visit.findings

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(
        case=st.one_of(
            operation.as_strategy(GenerationMode.POSITIVE),
            operation.as_strategy(GenerationMode.NEGATIVE),
        )
    )
    def probe(case: Any) -> None:
        response = case.call(
            base_url=visit.base_url,
            session=visit.http,
            headers=visit.headers,
            timeout=30,
            verify=visit.http.verify,
        )
        findings.requests += 1
        if visit.anonymous and protected and 200 <= response.status_code < 300:
            findings.add(operation.label, f"unauthenticated success {response.status_code}")
        try:
            case.validate_response(response, checks=CHECKS)
        except FailureGroup as group:  # every check's failure is a finding
            for failure in group.exceptions:
                findings.add(operation.label, f"{response.status_code}: {failure}")

    probe()


def run_schemathesis(
    document: dict[str, Any],
    base_url: str,
    ca_file: str,
    *,
    cookies: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Findings:
    """Generate and send :data:`EXAMPLES` requests per operation; collect the failures."""
    schema = schemathesis.openapi.from_dict(document)
    http = requests.Session()
    http.verify = ca_file
    for name, value in (cookies or {}).items():
        http.cookies.set(name, value)
    visit = Visit(base_url, http, dict(headers or {}), anonymous=cookies is None)
    try:
        for result in schema.get_all_operations():
            if isinstance(result, Err):  # an operation schemathesis cannot read: a finding
                visit.findings.add("openapi.json", f"unreadable operation: {result.err()}")
                continue
            operation = result.ok()
            _fuzz(operation, _protected(operation, document), visit)
    finally:
        http.close()
    return visit.findings


async def test_generated_requests_find_no_server_error_or_schema_violation(
    tmp_path: Path, clock: ManualClock
) -> None:
    db = f"sqlite+aiosqlite:///{tmp_path / 'gw.sqlite3'}"
    async with gateway_harness(tmp_path, db, clock) as gw:
        await gw.create_account("anna")
        ca_file = str(gw.gateway.tls.ca_cert)
        async with gw.client() as http:
            async with http.get("/api/v1/openapi.json") as resp:
                document = await resp.json()
            await gw.login(http, "anna")
            csrf = await gw.form_token(http, "/portal")
            session = {c.key: c.value for c in http.cookie_jar}
        anonymous = await asyncio.to_thread(run_schemathesis, document, gw.url, ca_file)
        customer = await asyncio.to_thread(
            run_schemathesis,
            document,
            gw.url,
            ca_file,
            cookies=session,
            headers={"X-CSRF-Token": csrf},
        )
    operations = len(document["paths"])
    found = {
        "anonymous": anonymous.failures,
        "customer": customer.failures,
    }
    count = sum(len(v) for f in found.values() for v in f.values())
    record(
        "api-robustness",
        f"{operations} paths, {anonymous.requests + customer.requests} generated requests "
        f"(anonymous and session+CSRF), {count} distinct failures",
        passed=count == 0,
    )
    report = [
        f"{who} {label}: {message}"
        for who, failures in found.items()
        for label, messages in failures.items()
        for message in messages
    ]
    assert report == [], "\n".join(sorted(report))
