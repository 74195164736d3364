"""patient record: patients and questionnaire responses out of the wide submission row

A submission held the patient's identity and every PHQ-9 and GAD-7 answer, total and band in
its own columns. Now:

- ``patient``: name, date of birth, email, phone, preferred contact, and the email and phone
  as compared for possible matches. Each existing submission gets a patient of its own, with
  the submission's id as the patient's (one per intake, as the intake now makes them).
- ``questionnaire_response``: one per instrument per occasion, answers keyed by item; each
  existing submission gets its PHQ-9 and GAD-7 responses, with the totals and bands it stored
  (nothing is scored again).
- ``patient_link``: a clinician's decision that two records are, or are not, one person.
- ``submission`` keeps the intake's own answers, its flags and review state, and gains
  ``patient_id`` and ``language`` (``en``: the only language before now).

Rows are moved in batches (constant memory at any size). SQLite rebuilds the ``submission``
table to drop its columns and add the foreign key; its triggers (the search index and the
tally) go with the old table and are made again here.

Revision ID: a932ffc8690e
Revises: 0b4ead974b47
Create Date: 2026-12-01 23:10:00

"""
import re

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'a932ffc8690e'
down_revision = '0b4ead974b47'
branch_labels = None
depends_on = None

BATCH = 5000
IDENTITY_COLUMNS = ('first_name', 'last_name', 'date_of_birth', 'email', 'phone',
                    'contact_method')
SCORE_COLUMNS = ('answers', 'phq9_difficulty', 'phq9_total', 'phq9_severity', 'phq9_item9',
                 'gad7_total', 'gad7_severity')
OLD_INDEXES = ('ix_submission_phq9_total', 'ix_submission_gad7_total',
               'ix_submission_status_fit_phq9')
PHQ9_ITEMS = 9
GAD7_ITEMS = 7

# The old wide row, as this migration reads and (downgrading) writes it.
old_submission = sa.table(
    'submission',
    sa.column('id', sa.Integer), sa.column('submitted_at', sa.DateTime),
    sa.column('patient_id', sa.Integer), sa.column('language', sa.String),
    sa.column('first_name', sa.String), sa.column('last_name', sa.String),
    sa.column('date_of_birth', sa.Date), sa.column('email', sa.String),
    sa.column('phone', sa.String), sa.column('contact_method', sa.String),
    sa.column('answers', sa.JSON), sa.column('phq9_difficulty', sa.Integer),
    sa.column('phq9_total', sa.Integer), sa.column('phq9_severity', sa.String),
    sa.column('phq9_item9', sa.Integer), sa.column('gad7_total', sa.Integer),
    sa.column('gad7_severity', sa.String),
)
patient = sa.table(
    'patient',
    sa.column('id', sa.Integer), sa.column('created_at', sa.DateTime),
    sa.column('first_name', sa.String), sa.column('last_name', sa.String),
    sa.column('date_of_birth', sa.Date), sa.column('email', sa.String),
    sa.column('phone', sa.String), sa.column('contact_method', sa.String),
    sa.column('email_key', sa.String), sa.column('phone_key', sa.String),
)
response = sa.table(
    'questionnaire_response',
    sa.column('id', sa.Integer), sa.column('patient_id', sa.Integer),
    sa.column('submission_id', sa.Integer), sa.column('occasion', sa.String),
    sa.column('instrument', sa.String), sa.column('instrument_version', sa.String),
    sa.column('answers', sa.JSON), sa.column('total', sa.Integer),
    sa.column('band', sa.String), sa.column('urgent', sa.Boolean),
    sa.column('language', sa.String), sa.column('completed_at', sa.DateTime),
)


# The comparison keys of screening.core.identity as they are when this migration is written
# (a migration must not change with later code).
def email_key(email):
    key = email.strip().casefold()
    return key or None


def phone_key(phone):
    digits = re.sub(r'[^0-9]', '', phone)
    if len(digits) == 11 and digits.startswith('1'):
        digits = digits[1:]
    return digits if len(digits) >= 7 else None


def _sqlite():
    return op.get_bind().dialect.name == 'sqlite'


def upgrade():
    op.create_table(
        'patient',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('first_name', sa.String(length=100), nullable=False),
        sa.Column('last_name', sa.String(length=100), nullable=False),
        sa.Column('date_of_birth', sa.Date(), nullable=False),
        sa.Column('email', sa.String(length=254), nullable=False),
        sa.Column('phone', sa.String(length=40), nullable=False),
        sa.Column('contact_method', sa.String(length=10), nullable=False),
        sa.Column('email_key', sa.String(length=254), nullable=True),
        sa.Column('phone_key', sa.String(length=15), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_patient_dob_email', 'patient', ['date_of_birth', 'email_key'])
    op.create_index('ix_patient_dob_phone', 'patient', ['date_of_birth', 'phone_key'])
    op.create_table(
        'questionnaire_response',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('patient_id', sa.Integer(), nullable=False),
        sa.Column('submission_id', sa.Integer(), nullable=True),
        sa.Column('occasion', sa.String(length=10), nullable=False),
        sa.Column('instrument', sa.String(length=20), nullable=False),
        sa.Column('instrument_version', sa.String(length=10), nullable=False),
        sa.Column('answers', sa.JSON(), nullable=False),
        sa.Column('total', sa.Integer(), nullable=False),
        sa.Column('band', sa.String(length=20), nullable=False),
        sa.Column('urgent', sa.Boolean(), nullable=False),
        sa.Column('language', sa.String(length=10), nullable=False),
        sa.Column('completed_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['patient_id'], ['patient.id']),
        sa.ForeignKeyConstraint(['submission_id'], ['submission.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('submission_id', 'instrument'),
    )
    op.create_index('ix_response_patient_course', 'questionnaire_response',
                    ['patient_id', 'instrument', 'completed_at'])
    op.create_table(
        'patient_link',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('patient_id', sa.Integer(), nullable=False),
        sa.Column('other_patient_id', sa.Integer(), nullable=False),
        sa.Column('decision', sa.String(length=10), nullable=False),
        sa.Column('decided_by_id', sa.Integer(), nullable=False),
        sa.Column('decided_at', sa.DateTime(), nullable=False),
        sa.Column('undone_by_id', sa.Integer(), nullable=True),
        sa.Column('undone_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['decided_by_id'], ['user.id']),
        sa.ForeignKeyConstraint(['other_patient_id'], ['patient.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['patient_id'], ['patient.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['undone_by_id'], ['user.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_patient_link_patient_id', 'patient_link', ['patient_id'])
    op.create_index('ix_patient_link_other_patient_id', 'patient_link', ['other_patient_id'])

    op.add_column('submission', sa.Column('patient_id', sa.Integer(), nullable=True))
    op.add_column('submission', sa.Column('language', sa.String(length=10), nullable=True))
    _move_rows_out()
    op.execute("UPDATE submission SET patient_id = id, language = 'en'")
    if not _sqlite():
        op.execute("SELECT setval(pg_get_serial_sequence('patient', 'id'),"
                   " (SELECT COALESCE(MAX(id), 0) + 1 FROM patient), false)")

    for name in OLD_INDEXES:
        op.drop_index(name, table_name='submission')
    with op.batch_alter_table('submission', recreate='auto') as batch:
        for name in IDENTITY_COLUMNS + SCORE_COLUMNS:
            batch.drop_column(name)
        batch.alter_column('patient_id', existing_type=sa.Integer(), nullable=False)
        batch.alter_column('language', existing_type=sa.String(length=10), nullable=False)
        batch.create_foreign_key('fk_submission_patient_id_patient', 'patient',
                                 ['patient_id'], ['id'])
        batch.create_index('ix_submission_patient_id', ['patient_id'])
        batch.create_index('ix_submission_status_fit', ['review_status', 'fit', 'submitted_at'])
    if _sqlite():
        _make_sqlite_triggers_again()


def _move_rows_out():
    """Each submission's patient and its PHQ-9 and GAD-7 responses, in batches."""
    bind = op.get_bind()
    last_id = 0
    while True:
        rows = bind.execute(
            sa.select(old_submission).where(old_submission.c.id > last_id)
            .order_by(old_submission.c.id).limit(BATCH)
        ).mappings().all()
        if not rows:
            return
        bind.execute(sa.insert(patient), [
            {'id': row['id'], 'created_at': row['submitted_at'],
             **{name: row[name] for name in IDENTITY_COLUMNS},
             'email_key': email_key(row['email']), 'phone_key': phone_key(row['phone'])}
            for row in rows
        ])
        bind.execute(sa.insert(response), [
            value for row in rows for value in _responses(row)
        ])
        last_id = rows[-1]['id']


def _responses(row):
    answers = row['answers']
    phq9 = {str(n): answers[f'phq9_{n}'] for n in range(1, PHQ9_ITEMS + 1)}
    if row['phq9_difficulty'] is not None:
        phq9['10'] = row['phq9_difficulty']
    gad7 = {str(n): answers[f'gad7_{n}'] for n in range(1, GAD7_ITEMS + 1)}
    common = {'patient_id': row['id'], 'submission_id': row['id'], 'occasion': 'intake',
              'instrument_version': '1', 'language': 'en', 'completed_at': row['submitted_at']}
    return (
        {**common, 'instrument': 'phq9', 'answers': phq9, 'total': row['phq9_total'],
         'band': row['phq9_severity'], 'urgent': row['phq9_item9'] >= 1},
        {**common, 'instrument': 'gad7', 'answers': gad7, 'total': row['gad7_total'],
         'band': row['gad7_severity'], 'urgent': False},
    )


# SQLite's triggers on ``submission``, as the search-index and tally migrations made them
# (0b4ead974b47, 313b7bc7ec6d): rebuilding the table dropped them.
SQLITE_TRIGGERS = (
    """
    CREATE TRIGGER submission_fts_insert AFTER INSERT ON submission BEGIN
        INSERT INTO submission_fts (rowid, search_text) VALUES (new.id, new.search_text);
    END
    """,
    """
    CREATE TRIGGER submission_fts_delete AFTER DELETE ON submission BEGIN
        INSERT INTO submission_fts (submission_fts, rowid, search_text)
        VALUES ('delete', old.id, old.search_text);
    END
    """,
    """
    CREATE TRIGGER submission_fts_update AFTER UPDATE OF id, search_text ON submission
    BEGIN
        INSERT INTO submission_fts (submission_fts, rowid, search_text)
        VALUES ('delete', old.id, old.search_text);
        INSERT INTO submission_fts (rowid, search_text) VALUES (new.id, new.search_text);
    END
    """,
    """
    CREATE TRIGGER submission_tally_insert AFTER INSERT ON submission BEGIN
        UPDATE submission_tally SET submissions = submissions + 1;
    END
    """,
    """
    CREATE TRIGGER submission_tally_delete AFTER DELETE ON submission BEGIN
        UPDATE submission_tally SET submissions = submissions - 1;
    END
    """,
)


def _make_sqlite_triggers_again():
    for name in ('submission_fts_insert', 'submission_fts_delete', 'submission_fts_update',
                 'submission_tally_insert', 'submission_tally_delete'):
        op.execute(f'DROP TRIGGER IF EXISTS {name}')
    for statement in SQLITE_TRIGGERS:
        op.execute(statement)
    # The rows kept their ids, so the index still fits them; rebuilt all the same, cheaply
    # enough, so that nothing can be left pointing at the old table's pages.
    op.execute("INSERT INTO submission_fts (submission_fts) VALUES ('rebuild')")
    op.execute("INSERT INTO submission_fts (submission_fts) VALUES ('optimize')")
    op.execute('UPDATE submission_tally SET submissions = (SELECT count(*) FROM submission)')


def downgrade():
    """Back to the wide row: each submission takes its patient's identity and its intake
    responses again. Check-ins and link decisions have nowhere to go and are dropped."""
    with op.batch_alter_table('submission', recreate='auto') as batch:
        batch.add_column(sa.Column('first_name', sa.String(length=100), nullable=True))
        batch.add_column(sa.Column('last_name', sa.String(length=100), nullable=True))
        batch.add_column(sa.Column('date_of_birth', sa.Date(), nullable=True))
        batch.add_column(sa.Column('email', sa.String(length=254), nullable=True))
        batch.add_column(sa.Column('phone', sa.String(length=40), nullable=True))
        batch.add_column(sa.Column('contact_method', sa.String(length=10), nullable=True))
        batch.add_column(sa.Column('answers', sa.JSON(), nullable=True))
        batch.add_column(sa.Column('phq9_difficulty', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('phq9_total', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('phq9_severity', sa.String(length=20), nullable=True))
        batch.add_column(sa.Column('phq9_item9', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('gad7_total', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('gad7_severity', sa.String(length=20), nullable=True))
    _move_rows_back()
    with op.batch_alter_table('submission', recreate='auto') as batch:
        for name in IDENTITY_COLUMNS + SCORE_COLUMNS:
            if name != 'phq9_difficulty':
                batch.alter_column(name, existing_type=_old_type(name), nullable=False)
        batch.drop_index('ix_submission_status_fit')
        batch.drop_index('ix_submission_patient_id')
        batch.drop_constraint('fk_submission_patient_id_patient', type_='foreignkey')
        batch.drop_column('patient_id')
        batch.drop_column('language')
        batch.create_index('ix_submission_phq9_total', ['phq9_total'])
        batch.create_index('ix_submission_gad7_total', ['gad7_total'])
        batch.create_index('ix_submission_status_fit_phq9',
                           ['review_status', 'fit', 'phq9_total'])
    if _sqlite():
        _make_sqlite_triggers_again()
    op.drop_index('ix_patient_link_other_patient_id', table_name='patient_link')
    op.drop_index('ix_patient_link_patient_id', table_name='patient_link')
    op.drop_table('patient_link')
    op.drop_index('ix_response_patient_course', table_name='questionnaire_response')
    op.drop_table('questionnaire_response')
    op.drop_index('ix_patient_dob_phone', table_name='patient')
    op.drop_index('ix_patient_dob_email', table_name='patient')
    op.drop_table('patient')


def _old_type(name):
    return {
        'first_name': sa.String(length=100), 'last_name': sa.String(length=100),
        'date_of_birth': sa.Date(), 'email': sa.String(length=254),
        'phone': sa.String(length=40), 'contact_method': sa.String(length=10),
        'answers': sa.JSON(), 'phq9_total': sa.Integer(), 'phq9_severity': sa.String(length=20),
        'phq9_item9': sa.Integer(), 'gad7_total': sa.Integer(),
        'gad7_severity': sa.String(length=20),
    }[name]


def _move_rows_back():
    bind = op.get_bind()
    last_id = 0
    while True:
        rows = bind.execute(
            sa.select(old_submission.c.id, old_submission.c.patient_id)
            .where(old_submission.c.id > last_id).order_by(old_submission.c.id).limit(BATCH)
        ).all()
        if not rows:
            return
        ids = [row.id for row in rows]
        people = {
            row.id: row for row in bind.execute(
                sa.select(patient).where(patient.c.id.in_([r.patient_id for r in rows])))
        }
        intake = {}
        for found in bind.execute(sa.select(response).where(response.c.submission_id.in_(ids))):
            intake[(found.submission_id, found.instrument)] = found
        for row in rows:
            person = people[row.patient_id]
            phq9, gad7 = intake[(row.id, 'phq9')], intake[(row.id, 'gad7')]
            answers = {f'phq9_{n}': phq9.answers[str(n)] for n in range(1, PHQ9_ITEMS + 1)}
            answers.update(
                {f'gad7_{n}': gad7.answers[str(n)] for n in range(1, GAD7_ITEMS + 1)})
            bind.execute(
                sa.update(old_submission).where(old_submission.c.id == row.id).values(
                    **{name: getattr(person, name) for name in IDENTITY_COLUMNS},
                    answers=answers, phq9_difficulty=phq9.answers.get('10'),
                    phq9_total=phq9.total, phq9_severity=phq9.band,
                    phq9_item9=phq9.answers['9'], gad7_total=gad7.total,
                    gad7_severity=gad7.band,
                )
            )
        last_id = ids[-1]
