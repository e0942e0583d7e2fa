def test_home_page_lists_open_consultations(client, factory):
    factory.consultation(title="Open consultation")
    response = client.get("/")
    assert response.status_code == 200
    assert "Open consultation" in response.get_data(as_text=True)
