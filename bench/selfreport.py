"""Bytes a phone downloads to open the household self-report page (the QR link).

Prints the page's size raw and gzipped (what a server or proxy compressing text sends), for
the first visit (the page and its one style sheet) and for the page after sending (with the
receipt and status table; the style sheet is cached by then). No script, no image, no font.

    .venv/bin/python bench/selfreport.py
"""

import gzip
import re
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from server import create_app  # noqa: E402
from server.extensions import db  # noqa: E402
from server.models import Assignment, Household, Town, User, Village  # noqa: E402
from server.selfreport import tokens  # noqa: E402

BUDGET = 30 * 1024


def seeded_app(folder: Path):
    app = create_app(
        {
            "ENV": "test",
            "SECRET_KEY": "bench",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'bench.db'}",
            "INSTANCE_PATH": str(folder),
        }
    )
    with app.app_context():
        db.create_all()
        town = Town(name="太河镇", office_phone="0533-5000000")
        village = Village(town=town, name="城子村")
        household = Household(code="H0001", village=village, head_name="李建忠", klass="C")
        cadre = User(username="wf", display_name="王芳", role="cadre", phone="13905330001")
        db.session.add_all([town, household, cadre, Assignment(household=household, cadre=cadre)])
        db.session.flush()
        token = tokens.issue(household, None, for_card=True)
        db.session.commit()
    return app, token


def sizes(body: bytes) -> tuple[int, int]:
    return len(body), len(gzip.compress(body, compresslevel=6))


def response_bytes(response) -> int:
    """Status line and headers as sent on the wire (HTTP/1.1), without the body."""
    head = f"HTTP/1.1 {response.status}\r\n" + "".join(
        f"{k}: {v}\r\n" for k, v in response.headers.items()
    )
    return len(head.encode()) + 2


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        app, token = seeded_app(Path(folder))
        client = app.test_client()
        first = client.get(f"/r/{token}")
        nonce = re.search(rb'name="nonce" value="([^"]+)"', first.data).group(1).decode()
        sent = client.post(
            f"/r/{token}",
            data={
                "category": "disaster",
                "description": "冰雹打落猕猴桃",
                "urgency": "urgent",
                "nonce": nonce,
            },
        )
        after = client.get(sent.headers["Location"])
        sheet = re.search(rb'rel="stylesheet" href="([^"]+)"', first.data).group(1).decode()
        style = client.get(sheet)
        print("household self-report page and its style sheet (no JS, image or font files)")
        for name, responses in (("first visit", [first, style]), ("after sending", [after])):
            raw = zipped = headers = 0
            for response in responses:
                one_raw, one_zipped = sizes(response.data)
                raw, zipped = raw + one_raw, zipped + one_zipped
                headers += response_bytes(response)
            print(
                f"  {name:14s} body {raw:6,d} B raw, {zipped:5,d} B gzipped; "
                f"headers {headers} B; total gzipped {zipped + headers:,d} B "
                f"({(zipped + headers) / BUDGET:.0%} of the 30 KB budget)"
            )


if __name__ == "__main__":
    main()
