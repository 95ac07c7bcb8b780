"""GET /openapi.json and the browsable page at /docs, with Swagger UI's files from the flask-swagger-ui package."""
import importlib.resources
import json

from flask import Blueprint, Response, current_app, redirect, send_from_directory, url_for

from app.access import DOCS, default_roles, role_table
from app.api import refuse_in_maintenance, runtime
from app.version import server_version
from app.openapi import build_spec

blueprint = default_roles(Blueprint("docs", __name__), read=DOCS, write="admin")
# Only the package's files are used, not its blueprint: the page below is ours.
SWAGGER_UI = importlib.resources.files("flask_swagger_ui") / "dist"

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Context Services API</title>
<link rel="stylesheet" href="{css}">
<link rel="icon" type="image/png" href="{icon}">
</head>
<body>
<div id="swagger-ui"></div>
<script src="{bundle}"></script>
<script>
window.ui = SwaggerUIBundle({{
  url: {spec},
  dom_id: "#swagger-ui",
  deepLinking: true,
  presets: [SwaggerUIBundle.presets.apis],
  layout: "BaseLayout"
}});
</script>
</body>
</html>
"""


def spec_json():
    """The document of this app as JSON bytes, built on first use and kept for the process."""
    cached = current_app.extensions.get("openapi_json")
    if cached is None:
        blueprints_refusing = {name for name, hooks in current_app.before_request_funcs.items()
                               if refuse_in_maintenance in hooks}
        roles = role_table(current_app, open_docs=runtime().settings["auth"]["open_docs"])
        document = build_spec(
            current_app.url_map, current_app.view_functions, runtime(), version=server_version(),
            refused_in_maintenance=lambda endpoint: endpoint.partition(".")[0] in blueprints_refusing,
            role_of=lambda endpoint, method: roles[(endpoint, method)])
        cached = json.dumps(document, ensure_ascii=False, indent=1).encode("utf-8")
        current_app.extensions["openapi_json"] = cached
    return cached


@blueprint.get("/openapi.json")
def openapi():
    return Response(spec_json(), mimetype="application/json")


@blueprint.get("/docs")
def page():
    html = _PAGE.format(css=url_for(".asset", filename="swagger-ui.css"),
                        icon=url_for(".asset", filename="favicon-32x32.png"),
                        bundle=url_for(".asset", filename="swagger-ui-bundle.js"),
                        spec=json.dumps(url_for(".openapi")))
    return Response(html, mimetype="text/html")


@blueprint.get("/docs/")
def page_with_slash():
    return redirect(url_for(".page"), code=301)


@blueprint.get("/docs/<path:filename>")
def asset(filename):
    return send_from_directory(SWAGGER_UI, filename, max_age=3600)
