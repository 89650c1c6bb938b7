"""Registration with e-mail validation and "Passwort vergessen" (R-MON-1, R-CCU-1)."""

from __future__ import annotations

from aiohttp import web

from cloud_gateway.accounts.repository_security import AccountSecurityRepository
from cloud_gateway.accounts.texts import policy_messages
from cloud_gateway.errors import (
    AccountRateLimitedError,
    ConflictError,
    LinkError,
    PasswordPolicyError,
)
from cloud_gateway.http.auth import begin_session, csrf_token, verify_csrf
from cloud_gateway.http.keys import ACCOUNTS, CONFIG, STORE
from cloud_gateway.http.pages import render
from cloud_gateway.i18n import request_language, translate

__all__ = ["base_url", "setup"]


def base_url(request: web.Request) -> str:
    """The portal's own origin for links in mails: the configured host, never the Host header."""
    http = request.app[CONFIG].http
    port = http.port
    if port == 0:
        sockname = request.transport.get_extra_info("sockname") if request.transport else None
        port = int(sockname[1]) if sockname else 443
    return f"https://{http.public_host}/" if port == 443 else f"https://{http.public_host}:{port}/"


def _message(
    request: web.Request, title: str, message: str, *, error: bool = False, status: int = 200
) -> web.Response:
    lang = request_language(request)
    context = {
        "title": translate(lang, title),
        "message": translate(lang, message),
        "error": error,
        "link": "/login",
        "link_text": translate(lang, "start.login"),
    }
    return render(request, "account_message.html", context, status=status)


async def _register_page(
    request: web.Request,
    errors: list[str],
    *,
    username: str = "",
    email: str = "",
    status: int = 200,
) -> web.Response:
    versions = await request.app[STORE].repo(AccountSecurityRepository).current_documents()
    context = {
        "csrf_token": await csrf_token(request),
        "errors": errors,
        "username": username,
        "email": email,
        "versions": versions,
    }
    return render(request, "account_register.html", context, status=status)


async def register_form(request: web.Request) -> web.Response:
    """The registration form."""
    return await _register_page(request, [])


async def register_submit(request: web.Request) -> web.Response:
    """Create the account and send the validation mail."""
    form = await request.post()
    await verify_csrf(request, form)
    lang = request_language(request)
    service = request.app[ACCOUNTS]
    username = str(form.get("username", "")).strip()
    email = str(form.get("email", "")).strip()
    password = str(form.get("password", ""))
    errors: list[str] = []
    if service.username_problem(username):
        errors.append(translate(lang, "register.bad_username"))
    if "@" not in email.strip("@") or len(email) > 254 or " " in email:
        errors.append(translate(lang, "register.bad_email"))
    if password != str(form.get("password2", "")):
        errors.append(translate(lang, "register.mismatch"))
    versions = await request.app[STORE].repo(AccountSecurityRepository).current_documents()
    if form.get("accept_terms") != versions.get("terms") or form.get(
        "accept_privacy"
    ) != versions.get("privacy"):
        errors.append(translate(lang, "register.need_terms"))
    if not errors:
        try:
            await service.register(
                username=username,
                email=email,
                password=password,
                language=lang,
                base_url=base_url(request),
                source_address=request.remote or "",
            )
        except PasswordPolicyError as exc:
            errors.extend(policy_messages(lang, exc))
        except AccountRateLimitedError:
            return await _register_page(
                request,
                [translate(lang, "register.too_many")],
                username=username,
                email=email,
                status=429,
            )
        except ConflictError:
            errors.append(translate(lang, "register.taken"))
    if errors:
        return await _register_page(request, errors, username=username, email=email, status=400)
    return _message(request, "register.sent_title", "register.sent_lead")


async def confirm_form(request: web.Request) -> web.Response:
    """The page the validation link opens: one button (mail scanners do not validate)."""
    context = {"csrf_token": await csrf_token(request), "token": request.query.get("token", "")}
    return render(request, "account_confirm.html", context)


async def confirm_submit(request: web.Request) -> web.Response:
    """Validate the address and log the user in (seed 002 §5)."""
    form = await request.post()
    await verify_csrf(request, form)
    try:
        account = await request.app[ACCOUNTS].confirm_email(str(form.get("token", "")))
    except LinkError:
        return _message(request, "confirm.title", "link.invalid", error=True, status=400)
    response = web.HTTPSeeOther("/portal")
    await begin_session(request, response, account)
    raise response


async def forgot_form(request: web.Request) -> web.Response:
    """Ask for a reset link."""
    context = {"csrf_token": await csrf_token(request), "sent": False}
    return render(request, "account_forgot.html", context)


async def forgot_submit(request: web.Request) -> web.Response:
    """Mail a reset link when the account exists; answer the same either way."""
    form = await request.post()
    await verify_csrf(request, form)
    lang = request_language(request)
    await request.app[ACCOUNTS].request_reset(
        str(form.get("login", "")), base_url(request), lang, request.remote or ""
    )
    context = {"csrf_token": await csrf_token(request), "sent": True}
    return render(request, "account_forgot.html", context)


async def reset_form(request: web.Request) -> web.Response:
    """Choose a new password through a reset link."""
    token = request.query.get("token", "")
    try:
        await request.app[ACCOUNTS].check_reset_link(token)
    except LinkError:
        return _message(request, "reset.title", "link.invalid", error=True, status=400)
    context = {"csrf_token": await csrf_token(request), "token": token, "errors": []}
    return render(request, "account_reset.html", context)


async def reset_submit(request: web.Request) -> web.Response:
    """Set the new password; the link is spent and every session ends."""
    form = await request.post()
    await verify_csrf(request, form)
    lang = request_language(request)
    token = str(form.get("token", ""))
    password = str(form.get("password", ""))
    errors: list[str] = []
    if password != str(form.get("password2", "")):
        errors.append(translate(lang, "register.mismatch"))
    else:
        try:
            await request.app[ACCOUNTS].reset_password(token, password)
        except LinkError:
            return _message(request, "reset.title", "link.invalid", error=True, status=400)
        except PasswordPolicyError as exc:
            errors.extend(policy_messages(lang, exc))
    if errors:
        context = {"csrf_token": await csrf_token(request), "token": token, "errors": errors}
        return render(request, "account_reset.html", context, status=400)
    return _message(request, "reset.title", "reset.done")


def setup(app: web.Application) -> None:
    """Register the routes of these flows."""
    app.router.add_get("/register", register_form, name="register")
    app.router.add_post("/register", register_submit)
    app.router.add_get("/register/confirm", confirm_form, name="register_confirm")
    app.router.add_post("/register/confirm", confirm_submit)
    app.router.add_get("/password/forgot", forgot_form, name="password_forgot")
    app.router.add_post("/password/forgot", forgot_submit)
    app.router.add_get("/password/reset", reset_form, name="password_reset")
    app.router.add_post("/password/reset", reset_submit)
