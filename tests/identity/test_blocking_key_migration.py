"""Migration 0009 turns stored hex blocking keys into the integers the code now computes."""

from __future__ import annotations

from sqlalchemy import text

from openbureau.schema_migrations import current_revision, downgrade, head_revision, upgrade

# The bureau's key is random, so the signs of a few keys are too: 64 keys make
# "both signs occur" fail by chance once in 2**63 runs, not once in 8 as four did.
VALUES = ["n:SMITH|d:1980-01-02", "p:+15551234567", "z:62701|SMITH", "名:张伟|1985"] + [
    f"p:+1555000{n:04d}" for n in range(60)
]


def _stored(engine) -> list[tuple]:
    with engine.connect() as conn:
        return conn.execute(
            text("SELECT key_bidx, subject_id FROM identity_blocking_keys ORDER BY subject_id")
        ).all()


def test_stored_keys_keep_their_meaning_across_0009(bureau):
    downgrade(bureau.engine, "0008")
    digests = bureau.keys.blind_index_many("blocking", VALUES)  # what 0008's code stored
    with bureau.engine.begin() as conn:
        for subject, digest in enumerate(digests, start=1):
            conn.execute(
                text("INSERT INTO identity_blocking_keys (key_bidx, subject_id) VALUES (:k, :s)"),
                {"k": digest, "s": subject},
            )
    upgrade(bureau.engine)
    assert current_revision(bureau.engine) == head_revision()
    expected = bureau.keys.blocking_index_many(VALUES)
    assert [row[0] for row in _stored(bureau.engine)] == expected
    assert len(set(expected)) == len(VALUES)
    assert min(expected) < 0 < max(expected)  # both signs go through the conversion
    # Down again: each key becomes the 16-character prefix of its old digest.
    downgrade(bureau.engine, "0008")
    assert [row[0] for row in _stored(bureau.engine)] == [d[:16] for d in digests]
    upgrade(bureau.engine)
