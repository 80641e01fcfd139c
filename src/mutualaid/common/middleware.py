from collections.abc import Callable

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render

from mutualaid.common.errors import ApplicationError


class ApplicationErrorMiddleware:
    """A service's refusal that a view did not handle becomes a message, never a 500.

    A POST goes back to the page it came from with the message shown; anything else gets a
    plain error page with the right status.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, ApplicationError) or request.path.startswith("/api/"):
            return None
        if request.method == "POST":
            messages.error(request, exception.message)
            referer = request.headers.get("Referer", "")
            if referer.startswith(request.build_absolute_uri("/")):
                return HttpResponseRedirect(referer)
        return render(
            request, "error.html", {"message": exception.message}, status=exception.status
        )
