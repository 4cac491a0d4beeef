"""Exceptions for bad input.

Every bad input becomes one of these, carrying one plain sentence that names the file,
key, column or value at fault and how to fix it. The CLI prints that sentence and exits 2;
pages show it with ``st.error``. Anything else escaping the engine is a bug.
"""


class SightlineInputError(Exception):
    """Base class: the user's input is wrong; ``str(err)`` is the one-line explanation.

    The message quotes names and values from the input, which may hold line breaks or other
    control characters: they are shown escaped (``\\n``), so the message stays one line in the
    CLI's stderr and in a page's error box, and no input can forge a second line.
    """

    def __str__(self) -> str:
        text = super().__str__()
        if text.isprintable():
            return text
        return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


class SpecError(SightlineInputError):
    """The audit file is malformed: unknown key, bad value, missing path."""


class DataError(SightlineInputError):
    """A data source cannot be read or does not match the audit (empty, truncated, bad column)."""


class ModelError(SightlineInputError):
    """A model artifact cannot be loaded safely or does not accept the audit's features."""


class MissingInputError(SightlineInputError):
    """An analysis needs an input the audit does not provide (e.g. drift without a reference).

    Pages show the message as an explanation of what to add; other pages keep working.
    """


class AccessError(SightlineInputError):
    """The server's deployment refuses the input: a path outside the data roots, a raw SQL URL
    on a shared server, a statement that is not one read-only query. (An untrusted model type is
    a :class:`ModelError`.)"""
