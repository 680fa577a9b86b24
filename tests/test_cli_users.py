"""`flask user ...`: accounts for real deployments."""

from sqlalchemy import select

from server.extensions import db
from server.models import AuditEvent, User


def _run(app, *args, input=None):
    return app.test_cli_runner().invoke(args=["user", *args], input=input)


def test_create_list_disable_enable_reset(world, app, client):
    created = _run(
        app,
        "create",
        "wangli",
        "--role",
        "supervisor",
        "--town",
        "太河镇",
        "--village",
        "纱帽村",
        "--name",
        "王丽",
        "--password",
        "a-long-password",
    )  # noqa: E501
    assert created.exit_code == 0, created.output
    user = db.session.scalar(select(User).where(User.username == "wangli"))
    assert [v.name for v in user.villages] == ["纱帽村"]
    assert "wangli\tsupervisor\t王丽\t纱帽村\tenabled" in _run(app, "list").output

    login = {"username": "wangli", "password": "a-long-password"}
    assert client.post("/api/login", json=login).status_code == 200
    assert _run(app, "disable", "wangli").exit_code == 0
    assert client.get("/api/me").status_code == 401  # the open session ended too
    assert client.post("/api/login", json=login).status_code == 401
    assert _run(app, "enable", "wangli").exit_code == 0
    assert _run(app, "reset-password", "wangli", "--password", "another-password").exit_code == 0
    assert client.post("/api/login", json=login).status_code == 401
    login["password"] = "another-password"
    assert client.post("/api/login", json=login).status_code == 200
    actions = db.session.scalars(
        select(AuditEvent.action).where(
            AuditEvent.entity == "user", AuditEvent.entity_id == user.id
        )
    ).all()
    assert actions == ["create", "update", "update", "update"]


def test_password_is_prompted_twice_when_not_given(world, app):
    result = _run(app, "create", "cadre9", "--role", "cadre", input="pass-word-1\npass-word-1\n")
    assert result.exit_code == 0, result.output


def test_bad_input_is_a_clear_error_and_changes_nothing(world, app):
    short = _run(app, "create", "x", "--role", "cadre", "--password", "short")
    assert short.exit_code != 0 and "at least 8" in short.output
    no_town = _run(app, "create", "x", "--role", "supervisor", "--password", "long-enough")
    assert no_town.exit_code != 0 and "needs --town" in no_town.output
    bad_village = _run(
        app,
        "create",
        "x",
        "--role",
        "supervisor",
        "--town",
        "太河镇",
        "--village",
        "东村",
        "--password",
        "long-enough",
    )  # noqa: E501
    assert bad_village.exit_code != 0 and "No village named '东村'" in bad_village.output
    duplicate = _run(app, "create", "ADMIN", "--role", "admin", "--password", "long-enough")
    assert duplicate.exit_code != 0 and "exists" in duplicate.output
    missing = _run(app, "disable", "nobody")
    assert missing.exit_code != 0 and "No user named" in missing.output
    assert db.session.scalar(select(User).where(User.username == "x")) is None
