"""The baseline: a bare Flask app under the same gunicorn settings, doing only what any JSON API must.

Its one view parses the request body as JSON (for POST and PUT) and answers a fixed small
JSON body. The ratio server/baseline therefore measures what the server adds on top of
gunicorn + Flask + JSON parsing on this machine, not the machine itself.
"""
from flask import Flask, jsonify, request

# Carries service_id so the journey script can follow it exactly as it follows the server.
FIXED_ANSWER = {"service_id": 17592186044417}

app = Flask(__name__)


@app.route("/", defaults={"path": ""}, methods=["GET", "POST", "PUT"])
@app.route("/<path:path>", methods=["GET", "POST", "PUT"])
def answer(path):
    if request.method == "GET":
        return jsonify(FIXED_ANSWER)
    request.get_json(force=True)
    return jsonify(FIXED_ANSWER), 201
