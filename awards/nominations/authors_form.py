"""The authors question of the application form (``FieldType.AUTHORS``): its rows as typed,
the buttons that add, remove and move a row, and the parsed answer. Part of the form built by
``nominations.formbuilder``, which re-exports what the views use."""

from __future__ import annotations

import json

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext
from wtforms import Field
from wtforms.utils import unset_value
from wtforms.validators import StopValidation, ValidationError

from awards.calls.models import FormField
from awards.nominations import authors as authors_mod

# ---- the authors question ----------------------------------------------------------------------
#
# Posted by the page as rows of inputs (``<name>-count`` rows, ``<name>-<i>-<key>`` each), so it
# works without JavaScript: the page shows the authors plus a blank row, and the buttons "add
# another author", "remove", "move up" and "move down" are submit buttons that save the form
# (``<name>-add``, ``<name>-remove`` = i, ``<name>-up`` = i, ``<name>-down`` = i). With
# JavaScript the same buttons act on the page and renumber the rows. The API posts each author
# as a JSON object under ``<name>``.


def _author_line(definition: FormField, row: dict) -> str:
    name = authors_mod.author_name(row)
    role = authors_mod.role_label(definition, row.get("role", ""))
    return f"{name} ({role})" if role else name


def _blank_row() -> dict[str, str]:
    return dict.fromkeys(authors_mod.ROW_KEYS, "")


def _is_blank(row: dict[str, str]) -> bool:
    """A row left empty: no name and no e-mail (its role is always chosen)."""
    return not any(row.get(key, "").strip() for key in (*authors_mod.NAME_KEYS, "email"))


def _posted_index(formdata, key: str, count: int) -> int | None:
    raw = formdata.get(key)
    try:
        index = int(raw) if raw is not None else None
    except (TypeError, ValueError):
        return None
    return index if index is not None and 0 <= index < count else None


class AuthorsField(Field):
    """The rows of an authors question, as typed (``data``: a list of dicts of strings)."""

    def __init__(self, *args, definition: FormField, **kwargs):
        super().__init__(*args, **kwargs)
        self.definition = definition
        self.added = False
        self.more = 0
        self.row_action = False
        self.json_error = False

    def process(self, formdata, data=unset_value, extra_filters=None):
        self.process_errors = []
        rows: list[dict[str, str]] = []
        if formdata is not None and (f"{self.name}-count" in formdata
                                     or self.name in formdata):
            rows = self._from_formdata(formdata)
        elif formdata is None:
            value = self.default if data is unset_value else data
            rows = [{key: str(item.get(key) or "") for key in authors_mod.ROW_KEYS}
                    for item in (value or []) if isinstance(item, dict)]
        self.object_data = data
        self.data = rows
        self.raw_data = [json.dumps(rows, ensure_ascii=False)]

    def _from_formdata(self, formdata) -> list[dict[str, str]]:
        name = self.name
        if f"{name}-count" not in formdata:
            return self._from_json(formdata.getlist(name))
        try:
            count = int(formdata.get(f"{name}-count") or 0)
        except ValueError:
            count = 0
        count = max(0, min(count, authors_mod.MAX_AUTHORS_LIMIT + 1))
        rows = [{key: str(formdata.get(f"{name}-{i}-{key}") or "")
                 for key in authors_mod.ROW_KEYS} for i in range(count)]
        remove = _posted_index(formdata, f"{name}-remove", count)
        up = _posted_index(formdata, f"{name}-up", count)
        down = _posted_index(formdata, f"{name}-down", count)
        if remove is not None:
            del rows[remove]
        elif up is not None and up > 0:
            rows[up - 1], rows[up] = rows[up], rows[up - 1]
        elif down is not None and down < count - 1:
            rows[down + 1], rows[down] = rows[down], rows[down + 1]
        self.added = f"{name}-add" in formdata
        if self.added:
            # The blank rows the page showed, and one more.
            self.more = 1 + sum(1 for row in rows if _is_blank(row))
        self.row_action = self.added or any(x is not None for x in (remove, up, down))
        return rows

    def _from_json(self, values: list[str]) -> list[dict[str, str]]:
        rows = []
        for raw in values:
            try:
                item = json.loads(raw)
            except (TypeError, ValueError):
                item = None
            if not isinstance(item, dict) or not all(
                    isinstance(item.get(key, ""), str) for key in authors_mod.ROW_KEYS):
                self.json_error = True
                continue
            rows.append({key: item.get(key) or "" for key in authors_mod.ROW_KEYS})
        return rows

    def filled_rows(self) -> list[dict[str, str]]:
        return [row for row in self.data if not _is_blank(row)]

    def display_rows(self, more: int = 0) -> list[dict[str, str]]:
        """The rows the page shows: those typed, then blank ones (one, or ``more`` after
        "add another author"), up to the question's limit."""
        rows = self.filled_rows()
        limit = authors_mod.max_authors(self.definition)
        blanks = max(1, min(int(more or 0), limit))
        while len(rows) < limit and blanks > 0:
            rows.append(_blank_row())
            blanks -= 1
        return rows

    def role_choices(self) -> list[tuple[str, str]]:
        return authors_mod.role_choices(self.definition)

    def max_authors(self) -> int:
        return authors_mod.max_authors(self.definition)


def _parse_authors(definition: FormField, field: AuthorsField, final: bool,
                   required: bool) -> list[dict[str, str]] | None:
    """The typed rows as the stored answer, or a ValidationError naming each wrong row."""
    if field.json_error:
        raise ValidationError(_l("Give each author as an object with text values: name_kk, "
                                 "name_ru, name_en, role, email."))
    rows = field.filled_rows()
    if not rows:
        if required and final:
            raise StopValidation(_l("Name at least one author."))
        raise StopValidation()
    limit = authors_mod.max_authors(definition)
    errors = []
    if len(rows) > limit:
        errors.append(lazy_ngettext("Name at most %(num)d author.",
                                    "Name at most %(num)d authors.", limit))
    roles = {value for value, _label in authors_mod.role_choices(definition)}
    seen: set[str] = set()
    value = []
    for number, row in enumerate(rows, start=1):
        row = {key: " ".join(row[key].split()) for key in authors_mod.ROW_KEYS}
        if not any(row[key] for key in authors_mod.NAME_KEYS):
            errors.append(_l("Author %(n)d: enter the name in at least one language.", n=number))
        if any(len(row[key]) > authors_mod.NAME_MAX_LENGTH for key in authors_mod.NAME_KEYS):
            errors.append(_l("Author %(n)d: the name is longer than %(max)d characters.",
                             n=number, max=authors_mod.NAME_MAX_LENGTH))
        if row["role"] and row["role"] not in roles:
            errors.append(_l("Author %(n)d: choose one of the roles.", n=number))
        if row["email"]:
            from awards.nominations.formbuilder import parse_email

            try:
                row["email"] = parse_email(row["email"]).lower()
            except ValidationError:
                errors.append(_l("Author %(n)d: enter a valid e-mail address.", n=number))
            else:
                if row["email"] in seen:
                    errors.append(_l("Author %(n)d: this e-mail is already given for another "
                                     "author.", n=number))
                seen.add(row["email"])
        value.append(row)
    if errors:
        raise ValidationError(" ".join(str(e) for e in errors))
    return value


def authors_formdata(name: str, rows: list[dict]) -> list[tuple[str, str]]:
    """Rows as the page posts them (for the API's stored values)."""
    return [(name, json.dumps({key: str(row.get(key) or "") for key in authors_mod.ROW_KEYS},
                              ensure_ascii=False)) for row in rows or []]


def row_action_target(form) -> dict[str, int] | None:
    """After a button of an authors question (add, remove, move) the form page opens again,
    with the blank rows asked for; None after any other button."""
    for f in form:
        if isinstance(f, AuthorsField) and f.row_action:
            return {"more": f.more} if f.more else {}
    return None
