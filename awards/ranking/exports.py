"""Rankings and scores as tables, written as CSV (UTF-8 with BOM, for Excel) or XLSX.

Cells that a spreadsheet would run as a formula (starting with = + - @, or a tab/carriage
return) are prefixed with a quote: nominee names and references come from applicants. Numbers
are written as numbers, so a negative z-score is not mistaken for a formula."""

from __future__ import annotations

import csv
import io
import itertools
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import IO

from flask_babel import gettext as _

from awards.ranking.services import ReviewRow, RoundData, RoundRanking

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> object:
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def _round(value: float | None, digits: int = 6) -> float | str:
    return "" if value is None else round(value, digits)


def authors_by_entry(session, ranking: RoundRanking) -> dict[int, str]:
    """Each ranked entry's authors ("Name (role); ..."), read in one query."""
    from sqlalchemy import select
    from sqlalchemy.orm import selectinload

    from awards.nominations.authors import authors_line
    from awards.nominations.models import Nomination

    ids = [row.entry.id for category in ranking.categories for row in category.rows]
    if not ids:
        return {}
    # Only the entries that have authors (most have none): a round of thousands of entries
    # does not load every nomination for an empty column.
    nominations = session.scalars(select(Nomination).where(Nomination.id.in_(ids),
                                                           Nomination.authors.any())
                                  .options(selectinload(Nomination.authors)))
    return {n.id: authors_line(n) for n in nominations if n.authors}


def ranking_table(ranking: RoundRanking, authors: Mapping[int, str] | None = None
                  ) -> tuple[list[str], list[list[object]]]:
    """``authors``: each entry's authors by id (``authors_by_entry``), in a column of their
    own."""
    compare = ranking.compare_method is not None
    authors = authors or {}
    header = ["category", "rank", "score_rank", "tied", "left_to_jury", "entry", "nominee",
              "organisation", "authors", "method", "score", "reviews", "required", "complete",
              "top_n_probability", "too_close_to_call"]
    if compare:
        header += ["compare_method", "compare_rank", "compare_score", "rank_change"]
    rows: list[list[object]] = []
    required = ranking.data.round.reviews_per_entry
    for category in ranking.categories:
        for row in category.rows:
            r = row.ranked
            stab = row.stability
            line: list[object] = [
                category.category.code, r.rank if r.rank is not None else "",
                r.score_rank if r.score_rank is not None else "",
                "=" if r.score_tied else "", "yes" if r.tied else "",
                row.entry.label, row.entry.nominee_name, row.entry.organisation_name,
                authors.get(row.entry.id, ""), ranking.method.value, _round(r.score),
                row.result.review_count, required,
                "yes" if row.result.complete else "no",
                _round(stab.probability, 3) if stab else "",
                "yes" if stab and stab.too_close_to_call else "",
            ]
            if compare:
                c = row.compare
                line += [ranking.compare_method.value,  # type: ignore[union-attr]
                         c.rank if c and c.rank is not None else "",
                         _round(c.score) if c else "",
                         row.rank_change if row.rank_change is not None else ""]
            rows.append(line)
    return header, rows


SCORES_HEADER = ["entry", "juror", "criterion", "score", "total", "category", "nominee",
                 "review_status", "imported"]


def scores_rows(data: RoundData,
                sheets: Iterable[tuple[ReviewRow, Mapping[str, float | None]]]
                ) -> Iterator[list[object]]:
    """One line per criterion of each score sheet, in the import's format (entry, juror,
    criterion, score) followed by context columns, so the file can be corrected and imported
    again. ``sheets`` come ordered by entry and juror (``services.score_sheets``). The lines
    are already safe for a spreadsheet (``safe_cell``: the texts are made safe once per sheet,
    not once per line)."""
    codes = {c.id: safe_cell(c.code) for c in data.categories}
    keys = [(c.key, safe_cell(c.key)) for c in data.criteria]
    for review, sheet in sheets:
        entry = data.entries[review.entry_id]
        juror = data.jurors.get(review.juror_id)
        label, email = safe_cell(entry.label), safe_cell(juror.email if juror else "")
        context = [_round(review.total), codes.get(entry.category_id, ""),
                   safe_cell(entry.nominee_name), "submitted" if review.submitted else "draft",
                   "yes" if review.imported else ""]
        for key, shown in keys:
            value = sheet.get(key)
            yield [label, email, shown, "" if value is None else value, *context]


def csv_chunks(header: Sequence[str], rows: Iterable[Sequence[object]], *,
               lines: int = 5000, safe: bool = False) -> Iterator[bytes]:
    """The CSV file in pieces of ``lines`` lines, for a streamed response: the header leaves
    at once and the whole file is never held in memory. ``safe``: the rows' cells are already
    ``safe_cell``-ed."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write("\ufeff")
    writer.writerow(header)
    rows = iter(rows)
    while True:
        yield buffer.getvalue().encode("utf-8")
        buffer.seek(0)
        buffer.truncate()
        batch = list(itertools.islice(rows, lines))
        if not batch:
            return
        writer.writerows(batch if safe else ([safe_cell(v) for v in row] for row in batch))


def to_csv(header: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    return b"".join(csv_chunks(header, rows))


XLSX_CHUNK = 64 * 1024


def xlsx_file(header: Sequence[str], rows: Iterable[Sequence[object]], *, title: str,
              safe: bool = False) -> IO[bytes]:
    """The workbook written row by row into a temporary file, rewound, for a streamed
    response. XlsxWriter's constant-memory mode flushes each row to disk as it comes, so a
    round's 400,000 lines never sit in memory (and it writes them twice as fast as
    openpyxl's write-only mode). Texts stay texts: nothing is turned into a formula, a link
    or a number. ``safe``: the rows' cells are already ``safe_cell``-ed."""
    import xlsxwriter

    out = tempfile.TemporaryFile()  # noqa: SIM115 (closed by the response that sends it)
    try:
        workbook = xlsxwriter.Workbook(out, {
            "constant_memory": True, "strings_to_formulas": False, "strings_to_urls": False,
            "strings_to_numbers": False, "tmpdir": tempfile.gettempdir()})
        sheet = workbook.add_worksheet(title[:31])
        sheet.freeze_panes(1, 0)
        sheet.write_row(0, 0, list(header), workbook.add_format({"bold": True}))
        write_row = sheet.write_row
        if safe:
            for number, row in enumerate(rows, start=1):
                write_row(number, 0, row)
        else:
            for number, row in enumerate(rows, start=1):
                write_row(number, 0, [safe_cell(v) for v in row])
        workbook.close()
    except BaseException:
        out.close()
        raise
    out.seek(0)
    return out


def to_xlsx(header: Sequence[str], rows: Iterable[Sequence[object]], *, title: str) -> bytes:
    with xlsx_file(header, rows, title=title) as file:
        return file.read()


def export_filename(ranking_or_data, what: str, fmt: str, method: str | None = None) -> str:
    data = ranking_or_data if isinstance(ranking_or_data, RoundData) else ranking_or_data.data
    parts = [data.call.slug, f"round{data.round.position}", what]
    if method:
        parts.append(method)
    return "-".join(parts) + f".{fmt}"


def sheet_title(what: str) -> str:
    return _("Ranking") if what == "ranking" else _("Scores")
