"""Read-only queries for people without a SQL client (``klenty-wh sql``)."""

from klenty_wh.query.guard import check_read_only
from klenty_wh.query.run import QueryResult, run_query

__all__ = ["QueryResult", "check_read_only", "run_query"]
