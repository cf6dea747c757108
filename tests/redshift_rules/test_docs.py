"""docs/redshift.md lists every rule the library checks, with the AWS page it comes from: the
rule table in `sparkify_dw.redshift_rules` is the source, and this keeps the page in step."""

from __future__ import annotations

import re
from pathlib import Path

from sparkify_dw.redshift_rules import DATETIME_FORMATS_URL, ENCODINGS, RULES

PAGE = Path(__file__).resolve().parents[2] / "docs" / "redshift.md"


def test_every_rule_and_its_page_is_in_docs_redshift_md() -> None:
    page = PAGE.read_text(encoding="utf-8")
    missing = [f"{rule.name} ({rule.url})" for rule in RULES.values()
               if f"`{rule.name}`" not in page or rule.url not in page]  # fmt: skip
    assert not missing, f"docs/redshift.md lacks: {missing}"


def test_every_encoding_page_is_in_docs_redshift_md() -> None:
    page = PAGE.read_text(encoding="utf-8")
    urls = {encoding.url for encoding in ENCODINGS.values()} | {DATETIME_FORMATS_URL}
    assert not [url for url in sorted(urls) if url not in page]
    for keyword in ENCODINGS:
        assert f"`{keyword.upper()}`" in page, keyword


def test_the_checks_docs_redshift_md_shows_run_as_written() -> None:
    page = PAGE.read_text(encoding="utf-8")
    blocks = re.findall(r"^```python\n(.*?)^```$", page, re.S | re.M)
    [block] = [b for b in blocks if "sparkify_dw.redshift_rules" in b]
    exec(compile(block, str(PAGE), "exec"), {})  # raises RedshiftRuleError on a violation
