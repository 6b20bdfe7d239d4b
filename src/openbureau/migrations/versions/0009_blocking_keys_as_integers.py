"""Blocking keys become 64-bit integers instead of 64-character hex digests.

A blocking key only gathers candidates for scoring, so 64 bits are plenty (see
`BureauKeys.blocking_index_many`), and the integer index is a third of the size and about
three times faster to fill. A stored key keeps its meaning: the new value is the first 8
bytes of the old digest, read as a signed big-endian integer, which is what the code now
computes, so no identity has to be decrypted and hashed again.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

TABLE = "identity_blocking_keys"


def _hex_prefix_to_int64(digest: str) -> int:
    return int.from_bytes(bytes.fromhex(digest[:16]), "big", signed=True)


def _int64_to_hex_prefix(value: int) -> str:
    return value.to_bytes(8, "big", signed=True).hex()


def _convert(convert, target_type) -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        using = (
            "('x' || substr(key_bidx, 1, 16))::bit(64)::bigint"
            if target_type is sa.BigInteger
            else "lpad(to_hex(key_bidx), 16, '0')"
        )
        op.alter_column(TABLE, "key_bidx", type_=target_type(), postgresql_using=using)
        return
    # SQLite cannot change a column's type in place: batch mode copies the table, and the
    # values are rewritten first by a Python function registered on this connection.
    bind.connection.driver_connection.create_function("ob_convert_key", 1, convert)
    op.execute(f"UPDATE {TABLE} SET key_bidx = ob_convert_key(key_bidx)")
    with op.batch_alter_table(TABLE) as batch_op:
        batch_op.alter_column("key_bidx", type_=target_type())


def upgrade() -> None:
    _convert(_hex_prefix_to_int64, sa.BigInteger)


def downgrade() -> None:
    # The digests' other 24 bytes are gone: a downgraded key is the 16-character prefix,
    # which the older code never computes. Run `openbureau identity reindex` with that code
    # after downgrading.
    _convert(_int64_to_hex_prefix, lambda: sa.String(64))
