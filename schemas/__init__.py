"""Marshmallow schemas of the API: events, resources, extension definitions. No flask or peewee."""
