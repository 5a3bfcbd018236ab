def test_health_names_what_is_down(client):
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["down"] == ["rasa", "actions"]
    assert body["checks"]["web"] is True
