class ApplicationError(Exception):
    """A business rule said no. The message is translatable and shown to the person as is."""

    def __init__(self, message: str, *, code: str = "invalid", status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status
