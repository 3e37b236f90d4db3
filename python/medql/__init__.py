"""medql: ask questions of medical VLM benchmark results from Python.

    >>> import medql
    >>> s = medql.Session()                  # the built-in synthetic demo data
    >>> r = s.query("by model score acc, ci, n sort acc desc")
    >>> r.to_pandas()                        # or pyarrow.table(r), polars.DataFrame(r)

Load real data with ``medql.Session(items="GMAI-MMBench_VAL.tsv",
predictions="outputs/")``. Results are Arrow data exported without copies
through the Arrow PyCapsule interface. Errors raise ``medql.QueryError``
(a query's text) or ``medql.DataError`` (an input file); loading warns with
``medql.DataWarning``.
"""

from __future__ import annotations

from typing import Optional, Tuple

__all__ = [
    "Session",
    "Result",
    "Error",
    "QueryError",
    "DataError",
    "DataWarning",
    "__version__",
]


class Error(Exception):
    """Every error medql raises is an instance of this class."""


class QueryError(Error):
    """A query that does not parse or resolve.

    ``str(e)`` shows the query line with the offending text underlined.
    ``span`` is ``(start, end)`` in characters of the query text (of the file,
    for ``Session.run``), ``line`` and ``col`` are 1-based, ``help`` is the
    hint (nearest names, what was expected), ``reason`` the message alone.
    """

    def __init__(
        self,
        message: str,
        span: Optional[Tuple[int, int]] = None,
        help: Optional[str] = None,
        line: Optional[int] = None,
        col: Optional[int] = None,
        origin: Optional[str] = None,
        reason: Optional[str] = None,
    ) -> None:
        super().__init__(message)
        self.span = span
        self.help = help
        self.line = line
        self.col = col
        self.origin = origin
        self.reason = reason if reason is not None else message


class DataError(Error):
    """A problem with an input file.

    ``file`` names it; ``place`` says where as a person finds it (``"line 3"``
    of a text file, ``"row 3"`` of a spreadsheet, ``"record 3"`` of JSON or
    Parquet) and ``row`` is that number; ``column`` names the column. Each is
    None when the problem is not at one place.
    """

    def __init__(
        self,
        message: str,
        file: str = "",
        place: Optional[str] = None,
        row: Optional[int] = None,
        column: Optional[str] = None,
        reason: Optional[str] = None,
    ) -> None:
        super().__init__(message)
        self.file = file
        self.place = place
        self.row = row
        self.column = column
        self.reason = reason if reason is not None else message


class DataWarning(UserWarning):
    """What loading found that is not an error (with ``strict=True``, a
    ``DataError``)."""


from ._medql import Result, Session, __version__  # noqa: E402
