"""Every refusal as `application/problem+json`: one place maps rule codes to HTTP statuses."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from renewquote.api.schemas import Problem, ViolationPublic
from renewquote.domain.errors import Code, Kind, RuleViolation, kind_of, violation

log = logging.getLogger("renewquote.api")

MEDIA_TYPE = "application/problem+json"
STATUS = {
    Kind.RULE: 422,
    Kind.INVALID: 422,
    Kind.STATE: 409,
    Kind.NOT_FOUND: 404,
    Kind.FORBIDDEN: 403,
    Kind.UNAUTHENTICATED: 401,
    Kind.RATE_LIMITED: 429,
}
_STATUS_OVERRIDES = {
    Code.MALFORMED_JSON: 400,
    Code.PAYLOAD_TOO_LARGE: 413,
    Code.HEADERS_TOO_LARGE: 431,
}
_HTTP_CODES = {400: Code.MALFORMED_JSON, 404: Code.NOT_FOUND, 413: Code.PAYLOAD_TOO_LARGE}
TITLES = {
    400: "Malformed request",
    401: "Not signed in",
    403: "Not allowed",
    404: "Not found",
    405: "Method not allowed",
    409: "Wrong state",
    413: "Request too large",
    422: "Rule broken",
    429: "Too many requests",
    431: "Request headers too large",
    500: "Internal error",
}


def language_of(request: Request) -> str:
    """Pick French or English from Accept-Language (English when neither is asked for)."""
    header = request.headers.get("accept-language", "")
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        weight = 1.0
        if params.strip().startswith("q="):
            try:
                weight = float(params.strip()[2:])
            except ValueError:
                weight = 0.0
        ranked.append((-weight, position, tag.strip().lower()[:2]))
    for _, _, lang in sorted(ranked):
        if lang in ("fr", "en"):
            return lang
    return "en"


def problem_body(
    status: int, code: str, detail: str, violations: list[dict[str, Any]]
) -> dict[str, Any]:
    """Build the body of an `application/problem+json` answer."""
    problem = Problem(
        title=TITLES.get(status, "Error"),
        status=status,
        detail=detail,
        code=code,
        violations=[ViolationPublic(**v) for v in violations],
    )
    return problem.model_dump()


def _status_of(code: Code) -> int:
    return _STATUS_OVERRIDES.get(code) or STATUS[kind_of(code)]


def problem_of(error: RuleViolation, language: str) -> Problem:
    """Shape a refusal with its status, its code and every violation, in `language`."""
    status = _STATUS_OVERRIDES.get(error.code) or STATUS[error.kind]
    # The violation that decided the status names the refusal: a 404 says `not_found` even when
    # a broken rule of the caller's own subscriptions was found first.
    lead = next((v for v in error.violations if _status_of(v.code) == status), error.violations[0])
    return Problem(
        title=TITLES.get(status, "Error"),
        status=status,
        detail=lead.message(language),
        code=lead.code.value,
        violations=[
            ViolationPublic(
                code=v.code.value,
                message=v.message(language),
                subscription_ids=list(v.subscription_ids),
            )
            for v in error.violations
        ],
    )


def problem_response(error: RuleViolation, language: str) -> JSONResponse:
    """Answer a refusal with its status, its code and every violation."""
    problem = problem_of(error, language)
    status = problem.status
    body = problem.model_dump()
    headers = {}
    if error.code is Code.RATE_LIMITED:
        headers["Retry-After"] = str(error.violations[0].params.get("retry_after", 60))
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def install(app: FastAPI) -> None:
    """Register the handlers that turn every error into problem+json."""

    @app.exception_handler(RuleViolation)
    async def on_rule(request: Request, exc: RuleViolation) -> JSONResponse:
        return problem_response(exc, language_of(request))

    @app.exception_handler(RequestValidationError)
    async def on_invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return problem_response(validation_problem(exc.errors()), language_of(request))

    @app.exception_handler(HTTPException)
    async def on_http(request: Request, exc: HTTPException) -> JSONResponse:
        status = exc.status_code
        # Starlette answers 400 itself for a body it cannot decode (not UTF-8): bad JSON too.
        code = _HTTP_CODES.get(status, Code.INVALID_INPUT)
        detail = exc.detail if isinstance(exc.detail, str) else TITLES.get(status, "Error")
        violation: dict[str, Any] = {"code": code.value, "message": detail, "subscription_ids": []}
        body = problem_body(status, code.value, detail, [violation])
        return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=exc.headers)

    @app.exception_handler(Exception)
    async def on_crash(request: Request, exc: Exception) -> JSONResponse:
        # Never a traceback to the caller; the log keeps it for us.
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        detail = "Something went wrong on our side; nothing was changed."
        body = problem_body(500, "internal_error", detail, [])
        return JSONResponse(body, status_code=500, media_type=MEDIA_TYPE)


def validation_problem(errors: Sequence[Any]) -> RuleViolation:
    """Turn Pydantic's errors into violations naming each field; bad JSON is its own code."""
    for error in errors:
        if error.get("type") == "json_invalid":
            problem = str(error.get("ctx", {}).get("error", "cannot be parsed"))
            return RuleViolation([violation(Code.MALFORMED_JSON, problem=problem)])
    found = []
    for error in errors:
        loc = [str(part) for part in error.get("loc", ()) if part not in ("body", "query", "path")]
        found.append(
            violation(
                Code.INVALID_INPUT,
                field=".".join(loc) or "body",
                problem=str(error.get("msg", "invalid")),
            )
        )
    return RuleViolation(found or [violation(Code.INVALID_INPUT, field="body", problem="invalid")])
