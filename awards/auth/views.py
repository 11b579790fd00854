"""Register, verify e-mail, log in and out, reset and change password, profile."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from awards.auth import services, throttle
from awards.auth.forms import (
    ChangePasswordForm,
    ForgotPasswordForm,
    LoginForm,
    ProfileForm,
    RegisterForm,
    ResetPasswordForm,
)
from awards.db import get_db
from awards.errors import render_error
from awards.extensions import limiter
from awards.forms import CSRFOnlyForm
from awards.urls import is_safe_next, safe_next

bp = Blueprint("auth", __name__, url_prefix="/account")


def _limit(name: str):
    return lambda: current_app.config[name]


def _email_key() -> str:
    return "email:" + services.normalise_email(request.form.get("email", ""))


def _fresh_session() -> None:
    """Empty the session, keeping only the chosen language."""
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang


def _remembered() -> bool:
    return current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token") in request.cookies


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(_limit("RATELIMIT_REGISTER"), methods=["POST"])
def register():
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    if is_safe_next(request.args.get("next") or ""):
        # Where the newcomer was going (a call's "Nominate" button): resumed after first login.
        session["after_login"] = request.args["next"]
    form = RegisterForm()
    if form.validate_on_submit():
        db = get_db()
        services.register_user(
            session=db,
            email=form.email.data,
            password=form.password.data,
            full_name=form.full_name.data,
            language=str(get_locale()),
        )
        db.commit()
        return render_template("auth/check_email.html", email=form.email.data.strip())
    status = 400 if form.is_submitted() else 200
    return render_template("auth/register.html", form=form), status


@bp.get("/verify/<token>")
def verify_email(token: str):
    db = get_db()
    user = services.read_verify_token(db, token)
    if user is None:
        flash(_("This verification link is invalid or has expired. Log in to get a new one."),
              "error")
        return redirect(url_for("auth.login")), 303
    if services.verify_email(session=db, user=user):
        db.commit()
    if current_user.is_authenticated:
        flash(_("Your e-mail address is confirmed."), "success")
        return redirect(url_for("main.index"))
    flash(_("Your e-mail address is confirmed. You can now log in."), "success")
    return redirect(url_for("auth.login"))


@bp.post("/verify/resend")
@login_required
@limiter.limit(_limit("RATELIMIT_RESET"))
def resend_verification():
    if not CSRFOnlyForm().validate():
        abort(400)
    if not current_user.email_verified:
        db = get_db()
        services.send_verification(session=db, user=current_user._get_current_object())
        db.commit()
    flash(_("We have sent a new confirmation link to your e-mail."), "success")
    return redirect(url_for("auth.profile"))


def _flash_revoked(count: int) -> None:
    if count:
        flash(ngettext("%(num)d API token was revoked with the old password: programs using "
                       "it need a new one.",
                       "%(num)d API tokens were revoked with the old password: programs using "
                       "them need new ones.", count), "warning")


def _too_many(refusal: throttle.Refusal):
    html, status = render_error(429, refusal.message)
    return html, status, {"Retry-After": str(refusal.seconds)}


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Failed attempts are counted per address and per address and account (see
    ``awards.auth.throttle``): a stranger's guesses never lock the owner out."""
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")))
    form = LoginForm()
    if form.validate_on_submit():
        attempt = throttle.Attempt(form.email.data)
        if (refusal := attempt.begin()) is not None:
            return _too_many(refusal)
        db = get_db()
        user = services.authenticate(session=db, email=form.email.data,
                                     password=form.password.data)
        if user is None:
            attempt.failed()
        else:
            attempt.succeeded()
            db.commit()
            target = request.args.get("next") or session.get("after_login")
            # Nothing planted in the session before login survives it (session fixation).
            _fresh_session()
            login_user(user, remember=form.remember.data)
            if not user.email_verified:
                flash(_("Please confirm your e-mail address: follow the link we sent you."),
                      "warning")
            return redirect(safe_next(target))
        flash(_("The e-mail or password is incorrect."), "error")
        return render_template("auth/login.html", form=form), 401
    status = 400 if form.is_submitted() else 200
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
def logout():
    """Ends every session of the account: a copied session cookie or "remember me" cookie
    carries the account's session token, which changes here."""
    if not CSRFOnlyForm().validate():
        abort(400)
    if current_user.is_authenticated:
        db = get_db()
        services.end_sessions(session=db, user=current_user._get_current_object())
        db.commit()
    _fresh_session()
    # After clearing: logout_user leaves the note that deletes the "remember me" cookie.
    logout_user()
    flash(_("You have logged out."), "success")
    return redirect(url_for("main.index"))


@bp.post("/sessions/end")
@login_required
def end_other_sessions():
    """"Log out of all other devices": every other session and "remember me" cookie ends;
    this one is renewed with the new token."""
    if not CSRFOnlyForm().validate():
        abort(400)
    db = get_db()
    user = current_user._get_current_object()
    services.end_sessions(session=db, user=user, audited=True)
    db.commit()
    remember = _remembered()
    _fresh_session()
    login_user(user, remember=remember)
    flash(_("You are logged out on every other device. You stay logged in here."), "success")
    return redirect(url_for("auth.profile"), 303)


@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit(_limit("RATELIMIT_RESET"), methods=["POST"])
@limiter.limit(_limit("RATELIMIT_RESET"), methods=["POST"], key_func=_email_key)
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        db = get_db()
        services.request_password_reset(session=db, email=form.email.data)
        db.commit()
        return render_template("auth/check_email.html", email=form.email.data.strip(), reset=True,
                               minutes=current_app.config["TOKEN_MAX_AGE_RESET"] // 60)
    status = 400 if form.is_submitted() else 200
    return render_template("auth/forgot_password.html", form=form), status


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
@limiter.limit(_limit("RATELIMIT_RESET"), methods=["POST"])
def reset_password(token: str):
    db = get_db()
    user = services.read_reset_token(db, token)
    if user is None:
        flash(_("This password reset link is invalid, expired or already used. "
                "Ask for a new one."), "error")
        return redirect(url_for("auth.forgot_password")), 303
    form = ResetPasswordForm()
    if form.validate_on_submit():
        revoked = services.reset_password(session=db, user=user, password=form.password.data)
        db.commit()
        _fresh_session()
        logout_user()
        flash(_("Your password has been changed. You can now log in."), "success")
        _flash_revoked(revoked)
        return redirect(url_for("auth.login"))
    status = 400 if form.is_submitted() else 200
    return render_template("auth/reset_password.html", form=form), status


@bp.route("/password", methods=["GET", "POST"])
@login_required
@limiter.limit(_limit("RATELIMIT_LOGIN"), methods=["POST"])
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        db = get_db()
        user = current_user._get_current_object()
        revoked = services.change_password(session=db, user=user,
                                           current_password=form.current.data,
                                           new_password=form.password.data)
        if revoked is not None:
            db.commit()
            # The new token ends every other session; this one is renewed with it.
            login_user(user, remember=_remembered())
            flash(_("Your password has been changed."), "success")
            _flash_revoked(revoked)
            return redirect(url_for("auth.profile"))
        form.current.errors.append(_("The current password is incorrect."))
    status = 400 if form.is_submitted() else 200
    return render_template("auth/change_password.html", form=form), status


@bp.route("/profile", methods=["GET", "POST"])
@login_required
def profile():
    form = ProfileForm(obj=current_user if request.method == "GET" else None)
    if form.validate_on_submit():
        db = get_db()
        services.update_profile(
            session=db, user=current_user._get_current_object(), full_name=form.full_name.data,
            organisation=form.organisation.data or "", phone=form.phone.data or "",
            language=form.preferred_language.data,
        )
        db.commit()
        session["lang"] = form.preferred_language.data
        flash(_("Your profile has been saved."), "success")
        return redirect(url_for("auth.profile"))
    status = 400 if form.is_submitted() else 200
    return render_template("auth/profile.html", form=form), status
