"""The baseline app: parses any JSON body and answers a fixed small JSON."""
from bench.baseline import FIXED_ANSWER, app


def test_post_parses_the_body_and_answers_the_fixed_json():
    client = app.test_client()
    answer = client.post("/services/start", data='{"service_type": 100}', content_type="text/plain")
    assert answer.status_code == 201
    assert answer.get_json() == FIXED_ANSWER


def test_a_malformed_body_is_refused_like_any_json_api_would():
    assert app.test_client().post("/services/start", data="{").status_code == 400


def test_get_answers_the_fixed_json_on_any_path():
    answer = app.test_client().get("/customers/c1/services")
    assert answer.status_code == 200
    assert answer.get_json() == FIXED_ANSWER
