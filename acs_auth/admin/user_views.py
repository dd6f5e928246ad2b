"""Admin pages for accounts: list and search, add, detail and edit, and the account actions."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from acs_auth import messages
from acs_auth.admin.forms import (
    ActionForm,
    AdminEmailForm,
    ConfirmForm,
    ServiceKeyForm,
    UserCreateForm,
    UserEditForm,
    UserFilterForm,
    cursor_arg,
    filter_args,
)
from acs_auth.admin.views import bp
from acs_auth.models import User, utcnow
from acs_auth.services.accounts import email_change, user_access, user_admin, user_search
from acs_auth.services.accounts.accounts import AccountExists
from acs_auth.services.audit import export, log
from acs_auth.services.factors import admin as factor_admin
from acs_auth.services.programs import catalogue
from acs_auth.services.signin import api_keys, api_quota, sessions
from acs_auth.services.text.addresses import InvalidEmail, LookalikeEmail


def _user_or_404(user_id: int) -> User:
    user = user_admin.get_user(user_id)
    if user is None:
        abort(404)
    return user


def _programs_known(form, held=()) -> bool:
    """Refuse LO Root IDs newly given to an account that a non-empty catalogue lacks."""
    unknown = catalogue.unknown_ids(set(form.programs.data or []) - set(held))
    if unknown:
        form.programs.errors.append(messages.PROGRAMS_UNKNOWN.format(ids=", ".join(unknown[:10])))
    return not unknown


def _status(form, code_if_invalid: int = 400) -> int:
    return code_if_invalid if form.errors else 200


@bp.get("/users")
def list_users():
    """Accounts, searched and filtered, one keyset page at a time."""
    form = UserFilterForm(formdata=request.args)
    filters = form.filters() if form.validate() else user_search.UserFilters()
    page, count = user_search.find_users(
        filters, after=cursor_arg("after"), before=cursor_arg("before")
    )
    query = filter_args(form)
    found = messages.ADMIN_USERS_FOUND if query else messages.ADMIN_USERS_TOTAL
    return render_template(
        "admin/users.html",
        form=form,
        page=page,
        count_text=found.format(count=count),
        query=query,
        now=utcnow(),
        factor_kinds=factor_admin.kinds_of([user.id for user in page.items]),
        factor_labels=factor_admin.LABELS,
    )


@bp.route("/users/new", methods=["GET", "POST"])
def create_user():
    """Add an account: no password, and the setup email goes out."""
    form = UserCreateForm()
    if form.validate_on_submit() and _programs_known(form):
        try:
            user = user_admin.create_user(
                form.email.data,
                role=form.role.data,
                first_name=form.first_name.data or None,
                last_name=form.last_name.data or None,
                programs=form.programs.data,
                actor=current_user,
            )
        except InvalidEmail as exc:
            lookalike = isinstance(exc, LookalikeEmail)
            reason = messages.EMAIL_LOOKALIKE if lookalike else messages.EMAIL_INVALID
            form.email.errors.append(reason)
        except AccountExists:
            form.email.errors.append(messages.ADMIN_ACCOUNT_EXISTS)
        else:
            flash(messages.ADMIN_USER_CREATED.format(email=user.email), "success")
            return redirect(url_for(".edit_user", user_id=user.id))
    return render_template("admin/user_new.html", form=form), _status(form)


def _detail(
    user: User,
    form: UserEditForm,
    code: int = 200,
    key_form: ServiceKeyForm | None = None,
    new_secret: str | None = None,
    email_form: AdminEmailForm | None = None,
):
    return render_template(
        "admin/user.html",
        user=user,
        form=form,
        key_form=key_form or ServiceKeyForm(formdata=None),
        email_form=email_form or AdminEmailForm(formdata=None),
        new_secret=new_secret,
        action_form=ActionForm(),
        events=log.events_of(user.id),
        keys=api_keys.list_for(user),
        live_sessions=user_access.live_sessions(user),
        describe_device=sessions.describe_device,
        describe=export.describe,
        key_usage=api_quota.key_usage,
        now=utcnow(),
        factors=factor_admin.summary(user),
        factor_labels=factor_admin.LABELS,
    ), code


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
def edit_user(user_id: int):
    """An account's details; POST saves role, programs and active."""
    user = _user_or_404(user_id)
    form = UserEditForm(
        data={"role": user.role, "programs": user.program_ids, "active": user.is_active}
    )
    if form.validate_on_submit() and _programs_known(form, user.program_ids):
        try:
            changes = user_admin.update_user(
                user,
                role=form.role.data,
                programs=form.programs.data,
                active=form.active.data,
                actor=current_user,
            )
        except user_admin.ActionRefused as exc:
            field = form.role if form.role.data != user.role else form.active
            field.errors.append(str(exc))
        else:
            flash(messages.ADMIN_USER_UPDATED if changes else messages.ADMIN_USER_UNCHANGED)
            return redirect(url_for(".edit_user", user_id=user.id))
    return _detail(user, form, _status(form))


def _action(user_id: int, action, message: str):
    user = _user_or_404(user_id)
    if ActionForm().validate_on_submit():
        try:
            result = action(user, current_user)
        except user_admin.ActionRefused as exc:
            flash(str(exc), "error")
        else:
            flash(message.format(count=result), "success")
    return redirect(url_for(".edit_user", user_id=user.id))


@bp.post("/users/<int:user_id>/unlock")
def unlock_user(user_id: int):
    """Clear the lock and the failed sign-in count."""
    return _action(user_id, user_admin.unlock, messages.ADMIN_USER_UNLOCKED)


@bp.post("/users/<int:user_id>/resend-setup")
def resend_setup(user_id: int):
    """Send a fresh password-setup email to an account without a password."""
    return _action(user_id, user_admin.resend_setup, messages.ADMIN_SETUP_SENT)


@bp.post("/users/<int:user_id>/sign-out")
def sign_out_user(user_id: int):
    """End every session of the account (browser and API)."""
    return _action(user_id, user_admin.sign_out_everywhere, messages.ADMIN_USER_SIGNED_OUT)


@bp.post("/users/<int:user_id>/factors/reset")
def reset_factors(user_id: int):
    """Remove every second factor of the account; the person is emailed, the reset audited."""
    user = _user_or_404(user_id)
    if ActionForm().validate_on_submit():
        try:
            kinds = factor_admin.reset(user, actor=current_user)
        except factor_admin.ResetRefused as exc:
            flash(str(exc), "error")
        else:
            names = ", ".join(factor_admin.labels_of(kinds))
            text = messages.ADMIN_FACTORS_RESET.format(kinds=names, email=user.email)
            flash(text, "success")
    return redirect(url_for(".edit_user", user_id=user.id))


@bp.post("/users/<int:user_id>/api-keys/<key_id>/revoke")
def revoke_user_api_key(user_id: int, key_id: str):
    """Revoke one API key of the account at once; the audit log names the administrator."""
    user = _user_or_404(user_id)
    if ActionForm().validate_on_submit():
        key = api_keys.revoke(user, key_id[:32], actor=current_user)
        if key is None:
            abort(404)
        flash(messages.ADMIN_API_KEY_REVOKED.format(prefix=key.prefix), "success")
    return redirect(url_for(".edit_user", user_id=user.id))


def _edit_form(user: User) -> UserEditForm:
    data = {"role": user.role, "programs": user.program_ids, "active": user.is_active}
    return UserEditForm(formdata=None, data=data)


@bp.post("/users/<int:user_id>/api-keys")
def create_service_key(user_id: int):
    """Make an API key for a service account; the secret is on this answer only (no-store)."""
    user = _user_or_404(user_id)
    form = ServiceKeyForm()
    if not form.validate_on_submit():
        return _detail(user, _edit_form(user), 400, key_form=form)
    try:
        _, secret = user_access.create_service_key(
            user,
            name=form.name.data,
            scope=form.scope.data,
            days=form.expires_in_days.data,
            actor=current_user,
        )
    except user_admin.ActionRefused as exc:
        flash(str(exc), "error")
        return redirect(url_for(".edit_user", user_id=user.id))
    except (api_keys.ExpiryTooLong, api_keys.TooManyKeys) as exc:
        form.name.errors.append(_key_refusal(exc))
        return _detail(user, _edit_form(user), 400, key_form=form)
    response, _ = _detail(user, _edit_form(user), new_secret=secret)
    return response, 200, {"Cache-Control": "no-store"}


def _key_refusal(exc: Exception) -> str:
    if isinstance(exc, api_keys.ExpiryTooLong):
        return messages.API_KEY_EXPIRY_TOO_LONG.format(days=exc.days)
    return messages.API_TOO_MANY_KEYS


@bp.post("/users/<int:user_id>/sessions/<session_id>/revoke")
def revoke_user_session(user_id: int, session_id: str):
    """End one session of the account at once; the audit log names the administrator."""
    user = _user_or_404(user_id)
    if ActionForm().validate_on_submit():
        if not user_access.revoke_session(user, session_id, actor=current_user):
            abort(404)
        flash(messages.ADMIN_SESSION_REVOKED, "success")
    return redirect(url_for(".edit_user", user_id=user.id))


@bp.post("/users/<int:user_id>/email")
def change_email(user_id: int):
    """Send a confirmation link to the person's new address (same rules as their own change)."""
    user = _user_or_404(user_id)
    form = AdminEmailForm()
    if form.validate_on_submit():
        try:
            address = user_access.request_email_change(user, form.new_email.data, current_user)
        except (user_admin.ActionRefused, email_change.EmailChangeInvalid) as exc:
            form.new_email.errors.append(str(exc))
        else:
            sent = messages.ADMIN_EMAIL_CHANGE_SENT.format(address=address, email=user.email)
            flash(sent, "success")
            return redirect(url_for(".edit_user", user_id=user.id))
    return _detail(user, _edit_form(user), 400, email_form=form)


@bp.post("/users/<int:user_id>/send-reset")
def send_reset(user_id: int):
    """Email the person a password reset link (a setup link when they have no password)."""
    user = _user_or_404(user_id)
    if ActionForm().validate_on_submit():
        try:
            kind = user_access.send_password_reset(user, actor=current_user)
        except user_admin.ActionRefused as exc:
            flash(str(exc), "error")
        else:
            sent = messages.ADMIN_RESET_SENT if kind == "reset" else messages.ADMIN_SETUP_RESENT
            flash(sent.format(email=user.email), "success")
    return redirect(url_for(".edit_user", user_id=user.id))


@bp.route("/users/<int:user_id>/delete", methods=["GET", "POST"])
def delete_user(user_id: int):
    """Ask for confirmation, then delete the account."""
    user = _user_or_404(user_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        email = user.email
        try:
            user_admin.delete_user(user, current_user)
        except user_admin.ActionRefused as exc:
            form.confirm.errors.append(str(exc))
        else:
            flash(messages.ADMIN_USER_DELETED.format(email=email), "success")
            return redirect(url_for(".list_users"))
    return render_template("admin/user_delete.html", user=user, form=form), _status(form)
