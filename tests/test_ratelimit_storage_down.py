"""With the rate-limit store unreachable, sign-in fails closed with a 503, never a 500."""

from tests.support.config import STRONG_PASSWORD, free_port
from tests.support.web import csrf_from


def _dead_redis(make_app):
    return make_app(
        RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI=f"redis://127.0.0.1:{free_port()}/0"
    )


def test_login_page_answers_503_when_redis_is_down(make_app, make_user):
    make_user()
    app = _dead_redis(make_app)
    client = app.test_client()
    token = csrf_from(client.get("/login").get_data(as_text=True))
    response = client.post(
        "/login",
        data={"csrf_token": token, "email": "ada@example.org", "password": STRONG_PASSWORD},
    )
    assert response.status_code == 503
    assert "text/html" in response.content_type


def test_api_login_answers_503_problem_when_redis_is_down(make_app, make_user):
    make_user()
    app = _dead_redis(make_app)
    response = app.test_client().post(
        "/api/auth/login", json={"email": "ada@example.org", "password": STRONG_PASSWORD}
    )
    assert response.status_code == 503
    assert response.content_type == "application/problem+json"
    assert "access_token" not in response.get_data(as_text=True)
