"""The read-only web dashboard, served by the API's own app at `/`.

Server-rendered (Jinja2, autoescaped) with one small script for live
refresh; every asset ships in this package. Not part of the OpenAPI
document: these are HTML pages for people, not the API.
"""
