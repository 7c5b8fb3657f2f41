"""AMC's error classes. Every one carries the HTTP status it maps to and a message for a person.

The server turns any `ApiError` into the one JSON error shape `{"ok": false, "error": "..."}`;
anything else becomes a 500 with the same shape, so a client never has to parse two formats.
"""
from http import HTTPStatus


class ApiError(Exception):
    """A request that cannot be served; `status` is the HTTP status to answer with."""

    status = HTTPStatus.BAD_REQUEST

    def __init__(self, message: str, status: HTTPStatus = None) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status


class BadRequest(ApiError):
    status = HTTPStatus.BAD_REQUEST


class Forbidden(ApiError):
    status = HTTPStatus.FORBIDDEN


class NotFound(ApiError):
    status = HTTPStatus.NOT_FOUND


class MethodNotAllowed(ApiError):
    status = HTTPStatus.METHOD_NOT_ALLOWED


class PayloadTooLarge(ApiError):
    status = HTTPStatus.REQUEST_ENTITY_TOO_LARGE


class NotImplementedYet(ApiError):
    status = HTTPStatus.NOT_IMPLEMENTED


class ConfigError(Exception):
    """A config file AMC was asked to edit cannot be edited safely (e.g. it is not valid JSON)."""
