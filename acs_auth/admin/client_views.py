"""Admin pages for OpenID Connect clients: list, register (secret shown once), edit, rotate."""

from __future__ import annotations

from flask import abort, flash, make_response, redirect, render_template, url_for
from flask_login import current_user

from acs_auth import messages
from acs_auth.admin.client_forms import ClientForm, lines
from acs_auth.admin.forms import ActionForm
from acs_auth.admin.views import bp
from acs_auth.oidc import clients


def _client_or_404(client_id: str):
    client = clients.get(client_id)
    if client is None:
        abort(404)
    return client


def _fields(form: ClientForm) -> dict:
    return {
        "redirect_uris": lines(form.redirect_uris.data),
        "post_logout_redirect_uris": lines(form.post_logout_uris.data),
        "backchannel_logout_uri": (form.backchannel_uri.data or "").strip() or None,
        "programs": lines(form.programs.data),
    }


def _show_secret(client, secret: str | None):
    """The page that shows a secret once; never cached."""
    response = make_response(
        render_template("admin/client_created.html", client=client, secret=secret)
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def _errors_to(form: ClientForm, exc: clients.ClientInvalid) -> None:
    names = {
        "post_logout_redirect_uris": "post_logout_uris",
        "backchannel_logout_uri": "backchannel_uri",
    }
    for field, text in exc.errors.items():
        getattr(form, names.get(field, field), form.name).errors.append(text)


@bp.get("/clients")
def list_clients():
    """Registered OpenID Connect clients."""
    return render_template("admin/clients.html", clients=clients.all_clients())


@bp.route("/clients/new", methods=["GET", "POST"])
def create_client():
    """Register a client; its secret is shown on the next page only."""
    form = ClientForm()
    if form.validate_on_submit():
        try:
            done = clients.register(
                form.name.data,
                first_party=form.first_party.data,
                public=form.public.data,
                actor=current_user,
                **_fields(form),
            )
        except clients.ClientInvalid as exc:
            _errors_to(form, exc)
        else:
            return render_template(
                "admin/client_created.html", client=done.client, secret=done.secret
            )
    return render_template("admin/client.html", form=form, client=None), 400 if form.errors else 200


@bp.route("/clients/<client_id>", methods=["GET", "POST"])
def edit_client(client_id: str):
    """Change a client's URIs, programs, first-party flag or activity."""
    client = _client_or_404(client_id)
    form = ClientForm(
        data={
            "name": client.name,
            "redirect_uris": "\n".join(client.redirect_uris),
            "post_logout_uris": "\n".join(client.post_logout_redirect_uris),
            "backchannel_uri": client.backchannel_logout_uri or "",
            "programs": "\n".join(client.programs),
            "first_party": client.first_party,
            "active": client.active,
        }
    )
    if form.validate_on_submit():
        try:
            clients.update(
                client,
                actor=current_user,
                name=form.name.data,
                first_party=form.first_party.data,
                active=form.active.data,
                **_fields(form),
            )
        except clients.ClientInvalid as exc:
            _errors_to(form, exc)
        else:
            flash(messages.OIDC_CLIENT_SAVED, "success")
            return redirect(url_for(".list_clients"))
    return render_template(
        "admin/client.html", form=form, client=client, action_form=ActionForm()
    ), 400 if form.errors else 200


@bp.post("/clients/<client_id>/rotate-secret")
def rotate_client_secret(client_id: str):
    """A new secret for a confidential client, shown once."""
    client = _client_or_404(client_id)
    if client.is_public or not ActionForm().validate_on_submit():
        return redirect(url_for(".edit_client", client_id=client_id))
    secret = clients.rotate_secret(client, actor=current_user)
    return _show_secret(client, secret)
