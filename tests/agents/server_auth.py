"""LangGraph server authentication for the server tests: the caller names themselves in a header
(where a deployment would check a token with its identity provider)."""

from langgraph_sdk import Auth

auth = Auth()


@auth.authenticate
async def authenticate(headers: dict) -> str:
    user = headers.get(b"x-user")
    if not user:
        raise Auth.exceptions.HTTPException(status_code=401, detail="Say who you are in X-User.")
    return user.decode()
