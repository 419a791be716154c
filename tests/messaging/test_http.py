"""Read endpoints: a bearer token, possibly limited to some accounts; health answers fast."""

import asyncio

import httpx
from pydantic import BaseModel, Field

from tienda.messaging.http import NotReady, TokenRing, account_readers, health_app

TOKENS = TokenRing({"ops-token": ["*"], "erp-ferreteria": ["acc-ferreteria"]})


class Cart(BaseModel):
    lines: list[str] = Field(min_length=1)


async def never_answers() -> None:
    await asyncio.sleep(30)


async def fine() -> None:
    return None


def client(checks=None) -> httpx.AsyncClient:
    accounts = account_readers(TOKENS)

    @accounts.get("/accounts/{account_id}/plan")
    async def plan(account_id: str) -> dict[str, str]:
        return {"account_id": account_id}

    @accounts.post("/accounts/{account_id}/cart/quote")
    async def quote(account_id: str, cart: Cart) -> dict[str, int]:
        return {"lines": len(cart.lines)}

    app = health_app("store", checks or {"database": fine}, [accounts])
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://store")


async def get(path, token=None, checks=None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with client(checks) as http:
        return await http.get(path, headers=headers)


async def test_a_token_limited_to_an_account_reads_that_account():
    response = await get("/accounts/acc-ferreteria/plan", "erp-ferreteria")
    assert (response.status_code, response.json()) == (200, {"account_id": "acc-ferreteria"})


async def test_a_token_limited_to_an_account_is_refused_another_account():
    response = await get("/accounts/acc-panaderia/plan", "erp-ferreteria")
    assert response.status_code == 403
    assert "acc-panaderia" in response.json()["detail"]


async def test_an_operations_token_reads_every_account():
    assert (await get("/accounts/acc-panaderia/plan", "ops-token")).status_code == 200


async def test_a_missing_or_wrong_token_is_unauthorized():
    assert (await get("/accounts/acc-ferreteria/plan")).status_code == 401
    assert (await get("/accounts/acc-ferreteria/plan", "guessed")).status_code == 401


async def test_an_account_id_no_message_could_carry_is_refused_naming_the_pattern():
    for account_id in ("acc%20ferreteria", "a" * 65, "-acc"):
        response = await get(f"/accounts/{account_id}/plan", "ops-token")
        assert response.status_code == 422
        assert response.json()["detail"].startswith("account_id: String should match pattern '^[A-Za-z0-9]")


async def test_liveness_needs_no_token():
    assert (await get("/health/live")).json() == {"service": "store", "status": "live"}


async def test_readiness_answers_within_a_second_when_a_dependency_hangs():
    started = asyncio.get_running_loop().time()
    response = await get("/health/ready", checks={"database": fine, "kafka": never_answers})
    assert asyncio.get_running_loop().time() - started < 1.0
    assert response.status_code == 503
    assert response.json()["checks"] == {"database": "ok", "kafka": "no answer within 0.8s"}


async def test_readiness_names_each_dependency_that_is_not_ready_and_why():
    async def refused() -> None:
        raise NotReady("authentication failed for user store (SCRAM-SHA-512)")

    response = await get("/health/ready", checks={"database": fine, "kafka": refused})
    assert response.status_code == 503
    assert response.json()["reasons"] == ["kafka: authentication failed for user store (SCRAM-SHA-512)"]
    assert "reasons" not in (await get("/health/ready")).json()


async def test_a_body_that_is_not_json_is_refused_saying_so_and_where():
    async with client() as http:
        response = await http.post(
            "/accounts/acc-ferreteria/cart/quote",
            content=b'{"lines": [oops]}',
            headers={"Authorization": "Bearer ops-token", "Content-Type": "application/json"},
        )
    assert response.status_code == 422
    assert response.json()["detail"] == ("body: not valid JSON at character 11 (Expecting value); send a JSON object")


async def test_a_body_with_a_wrong_field_names_the_field():
    async with client() as http:
        response = await http.post(
            "/accounts/acc-ferreteria/cart/quote", json={"lines": []}, headers={"Authorization": "Bearer ops-token"}
        )
    assert response.status_code == 422
    assert response.json()["detail"].startswith("lines: List should have at least 1 item")


async def test_a_body_sent_as_a_form_is_refused_asking_for_json():
    async with client() as http:
        response = await http.post(
            "/accounts/acc-ferreteria/cart/quote",
            content=b'{"lines": [{"sku": "USR-EXTRA", "quantity": 1}]}',
            headers={"Authorization": "Bearer ops-token", "Content-Type": "application/x-www-form-urlencoded"},
        )
    assert response.status_code == 422
    assert response.json()["detail"] == (
        "body: send it as JSON with Content-Type: application/json "
        "(this request's Content-Type: application/x-www-form-urlencoded)"
    )
