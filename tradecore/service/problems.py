"""Errors as the API answers them: ``{"errors": [{"field", "message"}, ...]}``, one line per problem, never a
traceback. FastAPI's own request validation is rewritten into the same shape."""

from __future__ import annotations

from typing import Any

from fastapi import HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse


class Problems(HTTPException):
    """A 4xx answer listing ``(field, message)`` problems."""

    def __init__(self, status: int, problems: list[tuple[str, str]]) -> None:
        super().__init__(status_code=status)
        self.problems = problems


def problem(status: int, field: str, message: str) -> Problems:
    return Problems(status, [(field, message)])


def body(problems: list[tuple[str, str]]) -> dict[str, Any]:
    return {
        "errors": [{"field": f, "message": m} for f, m in problems],
        "detail": "; ".join(f"{f}: {m}" if f else m for f, m in problems),
    }


def _field(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path")]
    return ".".join(parts) or "body"


def _message(err: dict[str, Any]) -> str:
    kind = err.get("type", "")
    if kind == "json_invalid":
        ctx = err.get("ctx") or {}
        return f"the body is not valid JSON ({ctx.get('error', 'parse error')}); send a JSON object"
    if kind == "missing":
        return "required; add it"
    if kind == "extra_forbidden":
        return "unknown field; remove it"
    message = err.get("msg", "invalid value")
    if "input" in err and kind not in ("model_type", "dict_type") and not isinstance(err["input"], (dict, list)):
        message += f" (got {err['input']!r})"
    return message


async def validation_handler(request: Request, exc: RequestValidationError) -> JSONResponse:
    problems = [
        ("body" if e.get("type") == "json_invalid" else _field(tuple(e.get("loc", ()))), _message(e))
        for e in exc.errors()
    ]
    return JSONResponse(body(problems), status_code=422)


async def problems_handler(request: Request, exc: Problems) -> JSONResponse:
    return JSONResponse(body(exc.problems), status_code=exc.status_code)


async def unexpected_handler(request: Request, exc: Exception) -> JSONResponse:
    """An unexpected failure: one line naming it, status 500, no traceback in the answer (the log has it)."""
    from tradecore.errors import TradecoreError
    from tradecore.plugins import one_line

    if isinstance(exc, TradecoreError):
        return JSONResponse(body([("", str(exc))]), status_code=422)
    return JSONResponse(body([("", f"internal error: {one_line(exc)}")]), status_code=500)
