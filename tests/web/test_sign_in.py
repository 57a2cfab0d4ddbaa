"""Sign-in through the form: cookies, CSRF, lock-out, roles, case access lists, sign-out."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Depends

from safeguard.domain.people import Role
from safeguard.services.people.sign_in import SignedIn
from safeguard.web.people import SESSION_COOKIE, ensure_force, require_case_access, require_roles
from tests.web.conftest import ApiClient
from tests.web.signed_in import PASSWORD, make_user, signed_in


def _login_form(api: ApiClient) -> tuple[str, str]:
    page = api.get("/ui/login", scope=None)
    secret = re.search(r'name="login_csrf" value="([^"]+)"', page.text)
    assert secret is not None
    cookie = page.headers["set-cookie"].split(";")[0]
    return secret.group(1), cookie


def _submit(api: ApiClient, username: str, password: str, next_url: str = "/ui/") -> object:
    secret, cookie = _login_form(api)
    return api.post(
        "/ui/login",
        scope=None,
        headers={"Cookie": cookie},
        data={"login_csrf": secret, "username": username, "password": password, "next": next_url},
    )


def test_sign_in_sets_a_strict_http_only_opaque_cookie(api: ApiClient) -> None:
    make_user(api.services, "kim", Role.EXAMINER)
    answer = _submit(api, "kim", PASSWORD, "/ui/reports")
    assert answer.status_code == 303  # type: ignore[attr-defined]
    assert answer.headers["location"] == "/ui/reports"  # type: ignore[attr-defined]
    cookies = answer.headers.get_list("set-cookie")  # type: ignore[attr-defined]
    session = next(c for c in cookies if c.startswith(SESSION_COOKIE))
    assert "HttpOnly" in session
    assert "SameSite=strict" in session
    assert "Path=/" in session
    assert "Secure" not in session  # plain http in tests; "always" behind a TLS proxy
    token = session.split(";")[0].split("=", 1)[1]
    assert PASSWORD not in session
    assert api.services.people_store.session(token) is None  # only its hash is stored
    home = api.get("/ui/", scope=None, headers={"Cookie": f"{SESSION_COOKIE}={token}"})
    assert "kim" in home.text
    actions = [e.action for e in api.services.case_service.store.audit_events()]
    assert actions[-1] == "user.signed-in"


def test_sign_in_refuses_without_its_csrf_and_never_redirects_off_site(api: ApiClient) -> None:
    make_user(api.services, "kim", Role.EXAMINER)
    no_csrf = api.post("/ui/login", scope=None, data={"username": "kim", "password": PASSWORD})
    assert no_csrf.status_code == 403
    assert SESSION_COOKIE not in no_csrf.headers.get("set-cookie", "")
    off_site = _submit(api, "kim", PASSWORD, "//evil.example.com/")
    assert off_site.headers["location"] == "/ui/"  # type: ignore[attr-defined]


def test_repeated_failures_lock_the_account_and_are_audited(api: ApiClient) -> None:
    make_user(api.services, "kim", Role.EXAMINER)
    for _ in range(5):
        refused = _submit(api, "kim", "not the password")
        assert refused.status_code == 403  # type: ignore[attr-defined]
    locked = _submit(api, "kim", PASSWORD)
    assert locked.status_code == 403  # type: ignore[attr-defined]
    assert "sign-in refused" in locked.text  # type: ignore[attr-defined]
    actions = [e.action for e in api.services.case_service.store.audit_events()]
    assert actions.count("user.sign-in-failed") == 6
    assert "user.locked-out" in actions


def test_sign_out_needs_csrf_and_ends_the_session(api: ApiClient) -> None:
    kim = signed_in(api, "kim", Role.EXAMINER)
    assert kim.post("/ui/logout", csrf=False).status_code == 403
    assert kim.get("/ui/").status_code == 200
    assert kim.post("/ui/logout").status_code == 303
    assert kim.get("/ui/").status_code == 303
    assert kim.get("/ui/reports").headers["location"] == "/ui/login?next=/ui/reports"


def test_roles_case_access_and_force_scoping_dependencies(api: ApiClient) -> None:
    router = APIRouter()

    @router.get("/ui/test/cases/{case_id}")
    async def case_page(
        case_id: int, signed: Annotated[SignedIn, Depends(require_case_access(Role.EXAMINER))]
    ) -> dict[str, str]:
        return {"user": signed.user.username}

    @router.get("/ui/test/national")
    async def national(
        signed: Annotated[SignedIn, Depends(require_roles(Role.NATIONAL_ANALYST))],
    ) -> dict[str, str]:
        return {"user": signed.user.username}

    @router.get("/ui/test/forces/{force}")
    async def force_page(
        force: str, signed: Annotated[SignedIn, Depends(require_roles(Role.FORCE_CONTACT))]
    ) -> dict[str, str]:
        ensure_force(signed.user, force)
        return {"force": force}

    api.app.include_router(router)
    case = api.services.case_service.new_case("OP-9", "exa")
    exa = signed_in(api, "exa", Role.EXAMINER)
    other = signed_in(api, "other", Role.EXAMINER)
    kent = signed_in(api, "kent", Role.FORCE_CONTACT, force="E23000032")
    api.services.case_access.grant(case.case_id, "exa", actor="test")
    assert exa.get(f"/ui/test/cases/{case.case_id}").json() == {"user": "exa"}
    assert other.get(f"/ui/test/cases/{case.case_id}").status_code == 404
    assert exa.get("/ui/test/cases/999").status_code == 404
    assert kent.get(f"/ui/test/cases/{case.case_id}").status_code == 403
    assert exa.get("/ui/test/national").status_code == 403
    assert kent.get("/ui/test/forces/E23000032").json() == {"force": "E23000032"}
    assert kent.get("/ui/test/forces/E23000001").status_code == 404
    assert api.get("/ui/test/national", scope=None).status_code == 303
