"""Default settings. Overridden by ``instance/config.py``, then ``SCREENING_*`` environment
variables (and ``DATABASE_URL``), then a test config.

It imports nothing else of ``screening``.
"""

from datetime import timedelta

# Refused at start outside debug and testing when still None (see create_app).
SECRET_KEY = None

DRAFT_TTL = timedelta(days=7)

# The scored questionnaires the intake asks, in order (keys of
# screening.core.instruments.INSTRUMENTS); the CSV export has their columns in this order.
INTAKE_INSTRUMENTS = ("phq9", "gad7")

# Sessions: HttpOnly and SameSite always; Secure unless explicitly serving plain HTTP locally
# (`make run` sets SCREENING_SESSION_COOKIE_SECURE=false for http://127.0.0.1).
SESSION_COOKIE_NAME = "screening_session"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = True
PERMANENT_SESSION_LIFETIME = timedelta(hours=12)
CLINICIAN_IDLE_TIMEOUT = timedelta(minutes=30)
CLINICIAN_ABSOLUTE_TIMEOUT = timedelta(hours=12)

# A patient may spend a long time on one step; an expired token would cost them their input.
WTF_CSRF_TIME_LIMIT = 12 * 3600

# Large enough for the longest honest intake step, small enough to refuse abuse.
MAX_CONTENT_LENGTH = 64 * 1024
MAX_FORM_MEMORY_SIZE = 64 * 1024
MAX_FORM_PARTS = 400

# pool_pre_ping: recover from a database restart without restarting the app.
# hide_parameters: SQL errors and logs never quote the values (patient answers) bound to them.
SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True, "hide_parameters": True}

# Throttles (held in the database so they hold across worker processes).
LOGIN_MAX_FAILURES = 5
LOGIN_WINDOW = timedelta(minutes=15)
INTAKE_MAX_PER_ADDRESS = 10
INTAKE_WINDOW = timedelta(hours=1)
RESUME_MAX_FAILURES = 5
RESUME_WINDOW = timedelta(minutes=15)

# Trust X-Forwarded-For/-Proto from this many proxies in front of the app (0: none).
TRUSTED_PROXIES = 0

# Urgent alert email: sent only when MAIL_SERVER and ALERT_EMAIL_TO are set.
MAIL_SERVER = None
MAIL_PORT = 25
MAIL_USE_STARTTLS = False
MAIL_USERNAME = None
MAIL_PASSWORD = None
MAIL_FROM = "intake@localhost"
ALERT_EMAIL_TO = None
MAIL_TIMEOUT = 10
# Absolute base URL used for links in alert emails, e.g. "https://intake.example.org".
PUBLIC_BASE_URL = "http://127.0.0.1:5000"

# The language of patient pages when the patient has chosen none and the browser asks for
# none that we have ("en" or "es"). Staff pages are always English.
BABEL_DEFAULT_LOCALE = "en"
# The name shown in the header. Left as "Our clinic", patients read it in their language.
CLINIC_NAME = "Our clinic"

# The clinic's time zone, an IANA name such as "America/Denver": every time staff see is
# shown in it, and their date filters are its days. None: UTC, with a warning at start.
# Stored times and the CSV export are UTC whatever this says.
TIMEZONE = None

# The order in which patients type their date of birth: "mdy" (month, day, year: the US
# convention) or "dmy" (day, month, year: most other countries).
DATE_ORDER = "mdy"
