"""Demo data for ``make run``: loaded once, safe to run again."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from awards.auth.models import User
from awards.auth.services import hash_password
from awards.db import utcnow

DEMO_PASSWORD = "awards-demo"
ADMIN = "admin@example.com"
JURORS = [f"jury{i}@example.com" for i in range(1, 6)]
APPLICANT = "applicant@example.com"


def seed_demo(session: Session) -> bool:
    if session.scalar(select(User).where(User.email == ADMIN)) is not None:
        return False
    pw = hash_password(DEMO_PASSWORD)
    now = utcnow()
    session.add(User(email=ADMIN, password_hash=pw, full_name="Администратор Премии",
                     is_admin=True, email_verified_at=now))
    names = ["Айгерим Сапарова", "Ерлан Нурланов", "Мария Ким", "Даурен Абаев", "Ольга Петрова"]
    for email, name in zip(JURORS, names, strict=True):
        session.add(User(email=email, password_hash=pw, full_name=name, email_verified_at=now))
    session.add(User(email=APPLICANT, password_hash=pw, full_name="Асель Жумабекова",
                     email_verified_at=now))
    session.flush()
    return True
