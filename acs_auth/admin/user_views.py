"""Admin pages for accounts: list and search, add, detail and edit, and the account actions."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from acs_auth import messages
from acs_auth.admin.forms import (
    ActionForm,
    ConfirmForm,
    UserCreateForm,
    UserEditForm,
    UserFilterForm,
    cursor_arg,
    filter_args,
)
from acs_auth.admin.views import bp
from acs_auth.models import User, utcnow
from acs_auth.services import audit_log, user_admin
from acs_auth.services.accounts import AccountExists
from acs_auth.services.emails import InvalidEmail, LookalikeEmail


def _user_or_404(user_id: int) -> User:
    user = user_admin.get_user(user_id)
    if user is None:
        abort(404)
    return user


def _status(form, code_if_invalid: int = 400) -> int:
    return code_if_invalid if form.errors else 200


@bp.get("/users")
def list_users():
    """Accounts, searched and filtered, one keyset page at a time."""
    form = UserFilterForm(formdata=request.args)
    filters = form.filters() if form.validate() else user_admin.UserFilters()
    page = user_admin.search_users(filters, after=cursor_arg("after"), before=cursor_arg("before"))
    return render_template(
        "admin/users.html", form=form, page=page, query=filter_args(form), now=utcnow()
    )


@bp.route("/users/new", methods=["GET", "POST"])
def create_user():
    """Add an account: no password, and the setup email goes out."""
    form = UserCreateForm()
    if form.validate_on_submit():
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


def _detail(user: User, form: UserEditForm, code: int = 200):
    return render_template(
        "admin/user.html",
        user=user,
        form=form,
        action_form=ActionForm(),
        events=audit_log.events_of(user.id),
        now=utcnow(),
    ), code


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
def edit_user(user_id: int):
    """An account's details; POST saves role, programs and active."""
    user = _user_or_404(user_id)
    form = UserEditForm(
        data={"role": user.role, "programs": user.program_ids, "active": user.is_active}
    )
    if form.validate_on_submit():
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
