import pytest

pytestmark = pytest.mark.django_db


def test_home_page_renders_in_french(client):
    response = client.get("/")
    assert response.status_code == 200
    content = response.content.decode()
    assert 'lang="fr"' in content
    assert "Chœur" in content


@pytest.mark.browser
def test_home_page_in_chromium(page):
    page.goto("/")
    assert "Chœur" in page.title()
