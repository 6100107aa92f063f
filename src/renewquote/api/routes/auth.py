"""Signing in and out."""

from __future__ import annotations

from functools import partial

from anyio import to_thread
from fastapi import APIRouter, Request, Response

from renewquote.api.dependencies import SignedIn, Unsigned, forget_token, run
from renewquote.api.schemas import TokenPublic, TokenRequest, problem_responses
from renewquote.services import auth

router = APIRouter(prefix="/auth", tags=["sign-in"])


@router.post(
    "/token",
    response_model=TokenPublic,
    # 409 and 422 also come from an Idempotency-Key sent along with a bearer token.
    responses=problem_responses(400, 401, 409, 413, 422, 429),
    summary="Sign in: e-mail and password give a bearer token",
)
async def sign_in(body: TokenRequest, request: Request, context: Unsigned) -> TokenPublic:
    """Check the password and return a token; repeated failures are slowed down (429)."""
    address = request.client.host if request.client else "unknown"
    # Off the event loop, unlike other calls: argon2 takes its time on purpose, and the
    # worker's other requests should not wait for it.
    issued = await to_thread.run_sync(
        partial(
            auth.sign_in, context.db, body.email, body.password, address=address, now=context.now
        )
    )
    return TokenPublic(access_token=issued.access_token, expires_at=issued.expires_at)


@router.delete(
    "/token",
    status_code=204,
    responses=problem_responses(401),
    summary="Sign out: revoke the token used for this call",
)
async def sign_out(call: SignedIn) -> Response:
    """Revoke the bearer token at once."""
    await run(auth.revoke_token, call.db, call.token, now=call.now)
    forget_token(call.token)
    return Response(status_code=204)
