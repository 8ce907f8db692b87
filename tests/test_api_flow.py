"""The whole core journey through the JSON API, as the PWA would make it."""


def test_need_to_confirmed_visit_moves_minutes_from_receiver_to_provider(app, make_member):
    receiver_client, provider_client = app.test_client(), app.test_client()
    receiver = make_member("Kim Young-ja")
    provider = make_member("Alex")
    receiver_client.login(receiver)
    provider_client.login(provider)

    post = receiver_client.post("/api/v1/posts", json={
        "kind": "need", "category": "escort", "title": "Walk to the clinic",
        "description": "Tuesday morning", "minutes": 90,
    })
    assert post.status_code == 201
    post_id = post.get_json()["post"]["id"]

    response = provider_client.post(f"/api/v1/posts/{post_id}/responses")
    assert response.status_code == 201
    exchange = response.get_json()["exchange"]
    assert (exchange["provider_id"], exchange["receiver_id"]) == (provider.id, receiver.id)

    accepted = receiver_client.post(f"/api/v1/exchanges/{exchange['id']}/accept")
    assert accepted.get_json()["exchange"]["status"] == "accepted"

    code = provider_client.post(f"/api/v1/exchanges/{exchange['id']}/confirmation-codes", json={"minutes": 90})
    assert code.status_code == 201
    url = code.get_json()["url"]
    assert url.startswith("http") and "/c/" in url

    redeemed = receiver_client.post("/api/v1/confirmations", json={"code": url})
    assert redeemed.status_code == 201
    transaction = redeemed.get_json()["transaction"]
    assert transaction["from_member_id"] == receiver.id
    assert transaction["to_member_id"] == provider.id
    assert transaction["minutes"] == 90

    assert receiver_client.get("/api/v1/me").get_json()["member"]["balance_minutes"] == -90
    assert provider_client.get("/api/v1/me").get_json()["member"]["balance_minutes"] == 90
    entries = provider_client.get("/api/v1/ledger").get_json()["entries"]
    assert [(e["minutes"], e["counterparty_id"]) for e in entries] == [(90, receiver.id)]

    again = receiver_client.post("/api/v1/confirmations", json={"code": url})
    assert again.status_code == 200
    assert again.get_json()["transaction"]["id"] == transaction["id"]
    assert receiver_client.get("/api/v1/me").get_json()["member"]["balance_minutes"] == -90
