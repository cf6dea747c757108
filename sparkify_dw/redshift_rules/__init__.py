"""What Redshift accepts, from its documentation, checked on tables, DDL scripts and COPYs.

Parsing a statement with a Redshift grammar says it is well formed, not that a cluster runs it:
`ENCODE az64` on a DOUBLE PRECISION column, `VARCHAR(70000)`, `TIMEFORMAT 'epochmilisecs'` and
`MAXERROR 200000` all parse, and Redshift refuses each one. `RULES` says what the AWS pages say,
one rule per page (docs/redshift.md lists them), and the `check_*` functions apply them:

- `check_table` / `check_metadata`: SQLAlchemy tables and their `redshift_*` options;
- `check_ddl`: a DDL script as Redshift receives it (`sparkify-dw sql`, `alembic upgrade
  --sql`): CREATE TABLE, DROP TABLE and the ALTER TABLEs a hand-written migration uses, in order;
- `check_copy`: a COPY, as sqlalchemy-redshift's `CopyCommand` or as text;
- `check_sql`: a whole script (`sparkify-dw sql --dialect redshift`), DDL and COPYs.

Each returns the `Violation`s found (an empty list: nothing known to be refused). Nothing here
connects to a database; SQLAlchemy and sqlalchemy-redshift are imported only when a table or a
CopyCommand is checked. What the pages do not say is not checked (an S3 key that exists, a
format string that matches the data), so an empty list is necessary, not sufficient.
"""

from __future__ import annotations

from sparkify_dw.redshift_rules.copy import (
    CopySpec as CopySpec,
)
from sparkify_dw.redshift_rules.copy import (
    check_copy as check_copy,
)
from sparkify_dw.redshift_rules.copy import (
    check_sql as check_sql,
)
from sparkify_dw.redshift_rules.copy import (
    copy_text as copy_text,
)
from sparkify_dw.redshift_rules.copy import (
    dateformat_problem as dateformat_problem,
)
from sparkify_dw.redshift_rules.copy import (
    parse_copy as parse_copy,
)
from sparkify_dw.redshift_rules.copy import (
    timeformat_problem as timeformat_problem,
)
from sparkify_dw.redshift_rules.ddl import (
    DDLState as DDLState,
)
from sparkify_dw.redshift_rules.ddl import (
    Token as Token,
)
from sparkify_dw.redshift_rules.ddl import (
    check_ddl as check_ddl,
)
from sparkify_dw.redshift_rules.ddl import (
    ddl_tables as ddl_tables,
)
from sparkify_dw.redshift_rules.ddl import (
    statements as statements,
)
from sparkify_dw.redshift_rules.rules import (
    DATETIME_FORMATS_URL as DATETIME_FORMATS_URL,
)
from sparkify_dw.redshift_rules.rules import (
    DATETIME_PARTS as DATETIME_PARTS,
)
from sparkify_dw.redshift_rules.rules import (
    DG as DG,
)
from sparkify_dw.redshift_rules.rules import (
    DISTSTYLES as DISTSTYLES,
)
from sparkify_dw.redshift_rules.rules import (
    ENCODINGS as ENCODINGS,
)
from sparkify_dw.redshift_rules.rules import (
    IDENTITY_TYPES as IDENTITY_TYPES,
)
from sparkify_dw.redshift_rules.rules import (
    MAX_CHAR_BYTES as MAX_CHAR_BYTES,
)
from sparkify_dw.redshift_rules.rules import (
    MAX_COLUMNS as MAX_COLUMNS,
)
from sparkify_dw.redshift_rules.rules import (
    MAX_COMPOUND_SORTKEY as MAX_COMPOUND_SORTKEY,
)
from sparkify_dw.redshift_rules.rules import (
    MAX_INTERLEAVED_SORTKEY as MAX_INTERLEAVED_SORTKEY,
)
from sparkify_dw.redshift_rules.rules import (
    MAX_NAME_BYTES as MAX_NAME_BYTES,
)
from sparkify_dw.redshift_rules.rules import (
    MAX_VARCHAR_BYTES as MAX_VARCHAR_BYTES,
)
from sparkify_dw.redshift_rules.rules import (
    MAXERROR_LIMIT as MAXERROR_LIMIT,
)
from sparkify_dw.redshift_rules.rules import (
    NOT_WITH_JSON as NOT_WITH_JSON,
)
from sparkify_dw.redshift_rules.rules import (
    RULES as RULES,
)
from sparkify_dw.redshift_rules.rules import (
    TIMEFORMAT_KEYWORDS as TIMEFORMAT_KEYWORDS,
)
from sparkify_dw.redshift_rules.rules import (
    TYPES as TYPES,
)
from sparkify_dw.redshift_rules.rules import (
    Encoding as Encoding,
)
from sparkify_dw.redshift_rules.rules import (
    RedshiftRuleError as RedshiftRuleError,
)
from sparkify_dw.redshift_rules.rules import (
    Rule as Rule,
)
from sparkify_dw.redshift_rules.rules import (
    Violation as Violation,
)
from sparkify_dw.redshift_rules.rules import (
    require_none as require_none,
)
from sparkify_dw.redshift_rules.tables import (
    ColumnSpec as ColumnSpec,
)
from sparkify_dw.redshift_rules.tables import (
    TableSpec as TableSpec,
)
from sparkify_dw.redshift_rules.tables import (
    check_metadata as check_metadata,
)
from sparkify_dw.redshift_rules.tables import (
    check_table as check_table,
)
from sparkify_dw.redshift_rules.tables import (
    parse_type as parse_type,
)
from sparkify_dw.redshift_rules.tables import (
    table_spec as table_spec,
)
