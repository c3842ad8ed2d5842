"""The token check: with a token set (required off loopback), every API call and page needs it, as
``Authorization: Bearer TOKEN`` or the cookie that ``?token=TOKEN`` sets once."""

from __future__ import annotations

import hmac

from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

COOKIE = "tradecore_token"
OPEN_PATHS = ("/health",)


class TokenMiddleware(BaseHTTPMiddleware):
    def __init__(self, app, token: str) -> None:
        super().__init__(app)
        self.token = token

    def _ok(self, given: str | None) -> bool:
        return given is not None and hmac.compare_digest(given.encode(), self.token.encode())

    async def dispatch(self, request: Request, call_next) -> Response:
        if request.url.path in OPEN_PATHS:
            return await call_next(request)
        header = request.headers.get("authorization", "")
        bearer = header[7:].strip() if header.lower().startswith("bearer ") else None
        if self._ok(bearer) or self._ok(request.cookies.get(COOKIE)):
            return await call_next(request)
        query = request.query_params.get("token")
        if self._ok(query):
            # set the cookie and drop the token from the address bar (and from history)
            params = [(k, v) for k, v in request.query_params.multi_items() if k != "token"]
            target = request.url.path + ("?" + "&".join(f"{k}={v}" for k, v in params) if params else "")
            response = RedirectResponse(target, status_code=303)
            response.set_cookie(COOKIE, self.token, httponly=True, samesite="strict")
            return response
        return JSONResponse(
            {
                "errors": [{"field": "token", "message": "this server needs its token"}],
                "detail": "token: send Authorization: Bearer TOKEN, or open the page once with ?token=TOKEN",
            },
            status_code=401,
        )
