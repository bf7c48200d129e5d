"""The one error type the CLI turns into a clear message and a non-zero exit."""


class LabError(Exception):
    """A problem the user can fix; the message is one sentence saying what to do."""
