from screening.extensions import db
from screening.models import Submission

from .intake_helpers import complete_intake


def test_a_complete_intake_is_stored_once(app, client):
    response = complete_intake(client)
    assert response.location.endswith("/intake/done")
    page = client.get("/intake/done").get_data(as_text=True)
    assert "Your answers have been sent" in page
    with app.app_context():
        stored = db.session.scalars(db.select(Submission)).all()
        assert len(stored) == 1
        assert stored[0].fit == "likely_fit"
