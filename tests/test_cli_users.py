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
    assert actions == ["create", "update", "update", "reset_password"]


def test_password_is_prompted_twice_when_not_given(world, app):
    result = _run(
        app,
        "create",
        "cadre9",
        "--role",
        "cadre",
        "--town",
        "太河镇",
        input="pass-word-1\npass-word-1\n",
    )
    assert result.exit_code == 0, result.output


def test_bad_input_is_a_clear_error_and_changes_nothing(world, app):
    def fails(*args) -> str:
        result = _run(app, "create", *args)
        assert result.exit_code != 0
        return result.output

    town = ("--town", "太河镇")
    assert "at least 8" in fails("xy", "--role", "cadre", *town, "--password", "short")
    assert "2 to 64" in fails("x", "--role", "cadre", *town, "--password", "long-enough")
    assert "Choose a town" in fails("xy", "--role", "supervisor", "--password", "long-enough")
    bad_village = fails(
        "xy", "--role", "supervisor", *town, "--village", "东村", "--password", "long-enough"
    )
    assert "No village named '东村'" in bad_village
    assert "taken" in fails("ADMIN", "--role", "admin", "--password", "long-enough")
    missing = _run(app, "disable", "nobody")
    assert missing.exit_code != 0 and "No user named" in missing.output
    assert db.session.scalar(select(User).where(User.username.in_(["x", "xy"]))) is None


def test_one_time_password_from_the_command_line_must_be_changed(world, app, client):
    result = _run(app, "create", "liuyang", "--role", "cadre", "--town", "太河镇", "--one-time")
    assert result.exit_code == 0, result.output
    one_time = result.output.rsplit(": ", 1)[1].strip()
    signed_in = client.post("/api/login", json={"username": "liuyang", "password": one_time})
    assert signed_in.get_json()["user"]["must_change_password"] is True
    assert client.get("/api/sync/pull").get_json()["error"] == "password_change_required"

    again = _run(app, "reset-password", "chengzi_cadre", "--one-time")
    assert again.exit_code == 0 and "One-time password" in again.output
    user = db.session.scalar(select(User).where(User.username == "chengzi_cadre"))
    db.session.refresh(user)
    assert user.must_change_password is True
