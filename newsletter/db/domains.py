"""The receiving domain of an address, in SQL: what follows its last ``@``.

An edition's deliveries keep their reader's domain (``Delivery.domain``), written by the
``INSERT … SELECT`` that makes the edition, so the database must cut it itself, on SQLite
as on PostgreSQL, exactly as :func:`newsletter.delivery.domain_hold.domain_of` cuts it in
Python (addresses are stored lower-cased, so no ``lower`` is needed here).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnExpressionArgument, String
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement


class email_domain(FunctionElement[str]):
    """``email_domain(address)``: the text after the address's last ``@``."""

    type = String()
    inherit_cache = True
    name = "email_domain"

    def __init__(self, address: ColumnExpressionArgument[str | None]) -> None:
        super().__init__(address)


@compiles(email_domain, "postgresql")
def _postgresql(element: email_domain, compiler: SQLCompiler, **kw: Any) -> str:
    address = compiler.process(element.clauses, **kw)
    return f"substring({address} from '[^@]*$')"


@compiles(email_domain, "sqlite")
def _sqlite(element: email_domain, compiler: SQLCompiler, **kw: Any) -> str:
    # rtrim drops every trailing character that is not an @: what is left ends at the last.
    address = compiler.process(element.clauses, **kw)
    return f"substr({address}, length(rtrim({address}, replace({address}, '@', ''))) + 1)"
